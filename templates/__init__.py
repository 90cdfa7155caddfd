"""Text templates, installed as the package `flowc_templates` (see setup.py) so that
importlib.resources finds them in a wheel install and in a checkout alike."""
