"""What a run computes under, as Dagster resources instead of environment variables.

`run_settings`: which pricing regimes are switched off, how far an opt-out reaches, what an export timestamp
without an offset means. `waba run` passes them explicitly as run config; a run launched from the UI sets them in
the launchpad (Resources > run_settings). The environment variables docs/cli.md documents (WABA_DISABLED_REGIMES,
WABA_CONSENT_SCOPE, WABA_NAIVE_TIMESTAMPS) only supply the defaults, read when the definitions load; nothing writes
the environment.

`app_secret`: the Meta app secret that verifies capture records' X-Hub-Signature-256. It comes from WABA_APP_SECRET
(shown in the UI by its name only, never its value) or from this resource's config; never from a landing folder.
"""
from __future__ import annotations

import os
from typing import Optional

import dagster as dg

from pipelines.compliance import ConsentParams
from pipelines.errors import UserError
from pipelines.finance import PricingParams, check_disabled_regimes
from pipelines.sources.naive_timestamps import MODES as NAIVE_MODES, naive_mode
from pipelines.sources.webhooks import APP_SECRET_ENV

DISABLED_ENV = "WABA_DISABLED_REGIMES"


def disabled_from_env() -> list[str]:
    return sorted({n.strip() for n in os.environ.get(DISABLED_ENV, "").split(",") if n.strip()})


class RunSettings(dg.ConfigurableResource):
    """The run's what-if and interpretation settings (defaults: the environment, else none / portfolio / reject)."""

    disabled_regimes: list[str] = []
    consent_scope: str = "portfolio"
    naive_timestamps: str = "reject"

    @classmethod
    def from_env(cls) -> RunSettings:
        """The documented defaults, each checked with one line naming its variable."""
        return cls(disabled_regimes=disabled_from_env(), consent_scope=ConsentParams.from_env().consent_scope,
                   naive_timestamps=naive_mode())

    def check(self) -> None:
        check_disabled_regimes(self.disabled_regimes)
        ConsentParams.checked(self.consent_scope)
        if self.naive_timestamps not in NAIVE_MODES:
            raise UserError(f"naive_timestamps={self.naive_timestamps!r}: expected one of {', '.join(NAIVE_MODES)}")

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # A value typed into the launchpad fails the run at its start, in one line, not as a reject halfway.
        self.check()

    def pricing(self) -> PricingParams:
        return PricingParams(tuple(sorted(set(self.disabled_regimes))))

    def consent(self) -> ConsentParams:
        return ConsentParams.checked(self.consent_scope)

    def run_config(self) -> dict:
        """This resource's entry in a run config (what `waba run` passes)."""
        return {"config": {"disabled_regimes": sorted(set(self.disabled_regimes)), "consent_scope": self.consent_scope,
                           "naive_timestamps": self.naive_timestamps}}

    def dbt_vars(self) -> dict:
        """The same settings as dbt vars, for model runners that take them that way."""
        return {"disabled_regimes": sorted(set(self.disabled_regimes)), "consent_scope": self.consent_scope}


class AppSecretResource(dg.ConfigurableResource):
    """Meta's app secret for X-Hub-Signature-256 (None: capture records load as unverified)."""

    app_secret: Optional[str] = None

    def secret(self) -> str | None:
        return self.app_secret or None


@dg.definitions
def resources() -> dg.Definitions:
    # EnvVar keeps the secret's value out of run config, run history and the UI: only the variable's name is shown.
    secret = AppSecretResource(app_secret=dg.EnvVar(APP_SECRET_ENV)) if os.environ.get(APP_SECRET_ENV) else AppSecretResource()
    return dg.Definitions(resources={"run_settings": RunSettings.from_env(), "app_secret": secret})
