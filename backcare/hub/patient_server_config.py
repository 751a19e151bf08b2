"""Jupyter server configuration of a patient's single-user server (the hub's spawner passes
it with --config): Voila serving the checklist, backcare.hub.guard refusing everything else,
JupyterLab, terminals and every other server extension off, and the kernels' websocket
limited to the messages ipywidgets needs (no execute request: the page cannot run code)."""

# ruff: noqa: F821 - `c` is the configuration object Jupyter gives a config file
c = get_config()  # type: ignore[name-defined]  # noqa: F821

c.ServerApp.jpserver_extensions = {
    "voila": True,
    "backcare.hub.guard": True,
    "jupyterlab": False,
    "jupyter_server_terminals": False,
    "jupyter_lsp": False,
    "notebook_shim": False,
    "notebook": False,
    "nbclassic": False,
}
c.ServerApp.terminals_enabled = False
c.ServerApp.allow_remote_access = False
c.MappingKernelManager.allowed_message_types = [
    "comm_open",
    "comm_msg",
    "comm_close",
    "comm_info_request",
    "kernel_info_request",
]
# culled kernels after an hour without a browser (a closed tab whose shutdown was lost)
c.MappingKernelManager.cull_idle_timeout = 3600
c.MappingKernelManager.cull_connected = False
c.VoilaConfiguration.template = "backcare"
c.VoilaConfiguration.strip_sources = True
c.VoilaConfiguration.show_tracebacks = False
c.VoilaConfiguration.theme = "light"
