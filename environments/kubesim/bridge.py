"""In the sandbox: kubectl's TCP listener (127.0.0.1:6443) forwarded to the API server's unix socket.

Started by the environment at reset, as root (the agent's user cannot signal it), with the
container's python3 (standard library only). If it dies, kubectl cannot reach the cluster.
"""

import asyncio
import contextlib
import sys

SOCKET = sys.argv[1] if len(sys.argv) > 1 else "/run/cluster/apiserver.sock"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 6443


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def forward(client_reader, client_writer):
    try:
        upstream_reader, upstream_writer = await asyncio.open_unix_connection(SOCKET)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))


async def main():
    server = await asyncio.start_server(forward, "127.0.0.1", PORT, reuse_address=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
