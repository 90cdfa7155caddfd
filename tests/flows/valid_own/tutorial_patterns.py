"""Patterns from Metaflow's tutorials: an IncludeFile whose default a helper computes from
`__file__` (the file is larger than a workflow argument carries, so Argo passes it in the code
package), and @conda_base(python=<a call>), an argument flowc never reads."""
import os
import platform

from metaflow import FlowSpec, IncludeFile, Parameter, conda_base, step


def script_path(filename):
    """The path of a file beside this flow, wherever the flow is started from."""
    filepath = os.path.join(os.path.dirname(__file__))
    return os.path.join(filepath, filename)


def get_python_version():
    versions = {"2": "2.7.15", "3": "3.9.10"}
    return versions[platform.python_version_tuple()[0]]


@conda_base(python=get_python_version())
class TutorialPatternsFlow(FlowSpec):
    movie_data = IncludeFile("movie_data", help="The path to a movie metadata file.",
                             default=script_path("tutorial_movies.csv"))
    genre = Parameter("genre", help="Filter movies for a particular genre.", default="Sci-Fi")

    @step
    def start(self):
        import csv
        import io

        rows = list(csv.DictReader(io.StringIO(self.movie_data)))
        self.movie_count = len(rows)
        self.titles = [r["title"] for r in rows if self.genre in r["genres"].split("|")]
        self.next(self.end)

    @step
    def end(self):
        assert self.movie_count == 2400, self.movie_count
        assert len(self.titles) == 1200 and self.titles[:2] == ["Movie 0001", "Movie 0002"], self.titles[:3]
        assert len(self.movie_data) > 64 * 1024
