"""nbgrader for the instructor's server on the classroom hub: the course's own config, shared exchange.

JupyterHub finds this folder through JUPYTER_CONFIG_PATH (classroom_server/jupyterhub_config.py).
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 - injected by traitlets when nbgrader loads this file

# Everything about grading (folders, gradebook, timeouts, feedback) is the course's own config ...
load_subconfig(str(Path(os.environ["VIDLAB_COURSE"]) / "grading" / "nbgrader_config.py"))  # noqa: F821
# ... except the exchange, which sits outside the instructor's course so every trainee can reach it.
c.Exchange.root = os.environ["VIDLAB_EXCHANGE"]
