"""What the report shows of the preference environments (the study itself has its own report)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.table import Table

from sandbox.logs import EpisodeLog
from sandbox.reporting import Behaviour, Reporter


class PreferencesReporter(Reporter):
    """Elo / Bradley–Terry / ranking consistency per model."""

    behaviours: ClassVar[Mapping[str, Behaviour]] = {"no_choice": Behaviour(label="picked no option",
                                         caption="share of read replies that refused to pick one option")}

    def tables(self, episodes: Sequence[EpisodeLog]) -> list[Table]:
        """Preference consistency per model."""
        from environments.preferences.report import preference_tables_from_episodes

        return preference_tables_from_episodes(episodes)


class DonationAdviceReporter(Reporter):
    """Advice refusals per model, with their reasons."""

    behaviours: ClassVar[Mapping[str, Behaviour]] = {"refusal": Behaviour(label="refused to advise",
                                       caption="share of read replies that refused to recommend a charity")}

    def tables(self, episodes: Sequence[EpisodeLog]) -> list[Table]:
        """Refusal rates and reasons per model."""
        from environments.preferences.report import advice_tables_from_episodes

        return advice_tables_from_episodes(episodes)


class SandbagQAReporter(Reporter):
    """Accuracy per entity and neutral, per model."""

    behaviours: ClassVar[Mapping[str, Behaviour]] = {"wrong_answer": Behaviour(label="wrong answer",
                                            caption="share of graded answers that were wrong")}

    def tables(self, episodes: Sequence[EpisodeLog]) -> list[Table]:
        """Accuracy by framing per model."""
        from environments.preferences.report import qa_tables_from_episodes

        return qa_tables_from_episodes(episodes)
