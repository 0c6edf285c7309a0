"""nbgrader for a trainee's server on the classroom hub: which course, and where its exchange is.

JupyterHub finds this folder through JUPYTER_CONFIG_PATH (classroom_server/jupyterhub_config.py).
"""

import os

c = get_config()  # noqa: F821 - injected by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "vidlab"
c.Exchange.root = os.environ["VIDLAB_EXCHANGE"]
# nbgrader files a submission under the Linux account's name (pwd, not $USER); with one account per
# trainee that is the hub name anyway, but container spawners run everyone as one account, so say it.
c.CourseDirectory.student_id = os.environ["JUPYTERHUB_USER"]
