"""A clinic on JupyterHub: each patient logs in to their own checklist, each physiotherapist
to JupyterLab, all on one store.

- ``folder``: the hub's owner-only folder (BACKCARE_HUB_DIR, default data/hub): its database,
  cookie secret, accounts, and one working folder per user.
- ``accounts``: hub accounts (patient or physiotherapist), passwords hashed with argon2id;
  on PostgreSQL each account has its own database role (backcare.store.row_security).
- ``auth``, ``spawner``: the JupyterHub Authenticator and Spawner (imported by the hub only).
- ``guard``: the server extension of a patient's single-user server: the checklist only.
- ``config``: the hub's configuration (``jupyterhub_config.py`` beside it applies it).
- ``server``: ``backcare hub``: prepare the folder and the store, start JupyterHub and its
  proxy on 127.0.0.1, print the URL once the hub answers.

JupyterHub itself is imported only by the modules that need it (auth, spawner, config)."""

from __future__ import annotations
