"""The lessons of the teacher's guide (docs/teaching.md), as data: each one sets the
dashboard's controls (city, seeds, policies and their levels, the comparison city's
policies, when the policies start and end) and says what to watch.

A lesson names policies by their registered names; :func:`check` says whether they
and their levels exist, so a lesson cannot silently drift from the policies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from abm import policies
from abm.viz.classroom import MAX_SEEDS, PRESETS, control_defaults, control_key


@dataclass(frozen=True)
class Lesson:
    title: str
    watch: str                                 # what to watch, shown with the lesson
    policies: dict[str, dict[str, float]]      # the first city's policies: name -> {control field: level}
    compare_policies: tuple[str, ...] = ()     # the comparison city's (none: no policy)
    preset: str = "district"
    seeds: int = 1
    seed: int = 1
    start_year: float = 1.0
    end_year: float | None = None              # the policies stop after this year (None: never)
    run_to_year: float = 6.0                   # where "Run to year" is set
    levels: dict[str, float] = field(default_factory=dict)  # other control levels, by control_key

    def settings(self) -> dict:
        """The page's settings for this lesson: ClassroomModel's keywords, and
        ``run_to_year``."""
        registered = policies.registered()
        levels = control_defaults()
        levels.update(self.levels)
        for name, fields in self.policies.items():
            levels.update({control_key(name, f): v for f, v in fields.items()})
        return {
            "preset": self.preset, "seed": self.seed, "compare": True, "seeds": self.seeds,
            "start_year": self.start_year, "end_year": self.end_year or 0.0, "run_to_year": self.run_to_year,
            **{cls.name: cls.name in self.policies for cls in registered},
            **{f"compare_{cls.name}": cls.name in self.compare_policies for cls in registered},
            **levels,
        }


LESSONS = (
    Lesson(
        title="Mano dura: the first two years and the years after",
        watch="Run to year 2; then type 6 and run again. Watch prisoners and gang members in prison climb at "
              "once, gang members on the street fall, trust in police fall, and the share of arrested who were "
              "not gang members. After year 2: new gang members (prisons recruit), members back on the street, "
              "and homicides since the policies started.",
        policies={"mano_dura": {"coverage": 0.4}},
        run_to_year=2.0,
    ),
    Lesson(
        title="What community policing needs in order to work",
        watch="Six small cities a side (an ensemble): the lines are medians, the bands the range. Watch trust in "
              "police rise in the beat blocks first (map layer), then the table's homicides since the policies "
              "started: on how many of the six seeds are they lower? Then try a share of officers on beats of "
              "0.1 and 0.6.",
        policies={"community_policing": {"coverage": 0.3}},
        preset="classroom",
        seeds=6,
        run_to_year=5.0,
    ),
    Lesson(
        title="Community policing or focused deterrence: what each buys",
        watch="Community policing (first city) against focused deterrence (second city). Compare the cost rows "
              "with homicides and new gang members since the policies started, prisoners and trust: which buys "
              "more for its money, and what does each cost besides money?",
        policies={"community_policing": {"coverage": 0.3}},
        compare_policies=("focused_deterrence",),
    ),
    Lesson(
        title="A truce that collapses",
        watch="A truce between gang leaderships holds from year 1 to year 3, then collapses. Watch homicides "
              "fall while it holds, gang members on the street while it holds, and what happens after year 3.",
        policies={"truce": {"restraint_weight": 0.9}},
        end_year=3.0,
    ),
)


def by_title(title: str) -> Lesson:
    for lesson in LESSONS:
        if lesson.title == title:
            return lesson
    raise KeyError(f"no lesson {title!r}")


def check(lesson: Lesson) -> list[str]:
    """What is wrong with a lesson (unknown policies or controls, levels out of range)."""
    problems = []
    controls = {control_key(cls.name, c.field): c for cls in policies.registered() for c in cls.controls}
    names = {cls.name for cls in policies.registered()}
    for name in (*lesson.policies, *lesson.compare_policies):
        if name not in names:
            problems.append(f"unknown policy {name!r}")
    levels = dict(lesson.levels)
    for name, fields in lesson.policies.items():
        levels.update({control_key(name, f): v for f, v in fields.items()})
    for key, value in levels.items():
        c = controls.get(key)
        if c is None:
            problems.append(f"unknown control {key!r}")
        elif not c.low <= value <= c.high:
            problems.append(f"{key} = {value} outside {c.low} to {c.high}")
    if lesson.preset not in PRESETS:
        problems.append(f"unknown city {lesson.preset!r}")
    if not 1 <= lesson.seeds <= MAX_SEEDS:
        problems.append(f"seeds {lesson.seeds} outside 1 to {MAX_SEEDS}")
    if lesson.end_year is not None and lesson.end_year <= lesson.start_year:
        problems.append("the policies end before they start")
    return problems
