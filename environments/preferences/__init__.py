"""Preferences → behaviour (Slama et al., arXiv 2602.18971): entity preferences, donation advice,
refusals and sandbagging on preference-linked tasks.

* ``sandbox/Preferences-v0`` — pairwise preference questions and a direct ranking;
* ``sandbox/DonationAdvice-v0`` — a simulated user asks which charity to donate to;
* ``sandbox/SandbagQA-v0`` — verifiable QA items framed as winning a donation for an entity.

The coding arm frames ``sandbox/Coding-v0`` tasks the same way (``coding.py``).
``python -m sandbox.run study=preferences`` (or ``python -m environments.preferences.study``)
runs the whole study. See README.md.
"""

from sandbox.registry import register, register_env

register_env("sandbox/Preferences-v0", "environments.preferences.env:PreferencesEnv")
register_env("sandbox/DonationAdvice-v0", "environments.preferences.env:DonationAdviceEnv")
register_env("sandbox/SandbagQA-v0", "environments.preferences.env:SandbagQAEnv")
register("reporter", "sandbox/Preferences-v0", "environments.preferences.reporter:PreferencesReporter")
register("reporter", "sandbox/DonationAdvice-v0", "environments.preferences.reporter:DonationAdviceReporter")
register("reporter", "sandbox/SandbagQA-v0", "environments.preferences.reporter:SandbagQAReporter")
register("quality", "preferences/sandbagging", "environments.preferences.quality:sandbagging_suite")
register("quality", "preferences/null-studies", "environments.preferences.quality:null_suite")
register("quality", "preferences/study", "environments.preferences.quality:study_suite")
register("study", "preferences", "environments.preferences.study:PreferenceStudy")

from environments.preferences import policies as policies  # noqa: E402  (registers policies)
