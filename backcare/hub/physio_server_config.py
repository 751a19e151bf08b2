"""Jupyter server configuration of a physiotherapist's single-user server (the hub's spawner
passes it with --config): JupyterLab on their copy of the clinic notebooks."""

c = get_config()  # type: ignore[name-defined]  # noqa: F821

c.ServerApp.allow_remote_access = False
c.MappingKernelManager.cull_idle_timeout = 3600
c.MappingKernelManager.cull_connected = False
