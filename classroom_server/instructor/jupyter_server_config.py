"""The instructor's server on the classroom hub: may the Lab show the formgrader in a tab (an iframe)?

JupyterHub >= 4.1 forbids framing any user's server ("frame-ancestors 'none'"): on one shared origin
a trainee's page could otherwise frame the instructor's server. With per-user subdomains
(VIDLAB_HUB_SUBDOMAIN_HOST, passed on by jupyterhub_config.py) every user has their own origin, so
'self' means the instructor's own pages only, and the formgrader tab is safe to allow.
"""

import os

c = get_config()  # noqa: F821 - injected by traitlets when Jupyter Server loads this file

if os.environ.get("VIDLAB_HUB_SUBDOMAIN_HOST"):
    c.ServerApp.tornado_settings = {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}
