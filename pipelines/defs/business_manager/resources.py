"""Graph API access for the Business Manager fetch: token and WABA ids come from the environment."""

import os

import dagster as dg

from pipelines.sources.graph_api import (
    BASE_URL_ENV, DEFAULT_BASE_URL, DEFAULT_API_VERSION, TOKEN_ENV, VERSION_ENV, WABA_IDS_ENV, GraphSettings,
)


class GraphApiResource(dg.ConfigurableResource):
    """Meta's WhatsApp Business Management API: a system-user token and the WABAs to read."""

    token: str
    waba_ids: str            # comma separated
    api_version: str = DEFAULT_API_VERSION
    base_url: str = DEFAULT_BASE_URL

    def settings(self) -> GraphSettings:
        return GraphSettings.build(self.token, self.waba_ids, self.api_version, self.base_url,
                                   **GraphSettings.tuning_from_env())


def _optional(var: str, default: str):
    return dg.EnvVar(var) if os.environ.get(var) else default


@dg.definitions
def resources() -> dg.Definitions:
    # EnvVar keeps the token out of run config and the UI: only the variable's name is shown.
    return dg.Definitions(resources={"graph_api": GraphApiResource(
        token=dg.EnvVar(TOKEN_ENV), waba_ids=dg.EnvVar(WABA_IDS_ENV),
        api_version=_optional(VERSION_ENV, DEFAULT_API_VERSION), base_url=_optional(BASE_URL_ENV, DEFAULT_BASE_URL),
    )})
