import math
import os


def circle_area(r):
    return math.pi * r * r


def read_note():
    with open(os.path.join(os.path.dirname(__file__), "note.txt")) as f:
        return f.read().strip()
