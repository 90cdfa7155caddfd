from .square import area

UNIT = "m2"
