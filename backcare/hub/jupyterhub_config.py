"""JupyterHub's configuration file for `backcare hub` (shipped in the package; the hub loads
it with -f). The settings are in backcare.hub.config."""

from backcare.hub.config import configure

configure(get_config())  # type: ignore[name-defined]  # noqa: F821
