"""The Docker backend of the sandbox protocol: one locked-down container per episode.

:class:`~sandbox.docker.lifecycle.DockerSandbox` implements :class:`sandbox.protocol.Sandbox`
(registered as backend ``docker``), talking to the container's supervisor over
:mod:`~sandbox.docker.channel` (commands: :mod:`~sandbox.docker.exec`, files:
:mod:`~sandbox.docker.files`); :mod:`~sandbox.docker.containers` creates and removes containers
through the engine (:mod:`~sandbox.docker.engine`), :mod:`~sandbox.docker.images` builds their
images (from ``sandbox/image`` and each plug-in's ``image/``), :mod:`~sandbox.docker.cleanup`
removes what a run leaves, and a run's warm pool (:mod:`~sandbox.docker.pool`,
:mod:`~sandbox.docker.warm`) keeps started containers ready. Nothing in the core imports this
package: environments and tools see the protocol only.
"""
