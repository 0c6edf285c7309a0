"""VID Lab toolkit: the tested functions behind the course notebooks, usable on real casework."""

__version__ = "0.1.0"
