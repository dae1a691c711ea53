"""The import-linter contract types of ``make lint`` (wedsync_ops/boundaries.py) catch what they forbid.

Each test builds the import graph (grimp, as lint-imports does) of a small tree of packages written to a
temporary folder, so a contract that could never fail would show here.
"""

import sys

import grimp
import pytest

from wedsync_ops.boundaries import AppCyclesContract, AppInterfacesContract

FILES = {
    "shop/__init__.py": "",
    "shop/services.py": "import stock.services\n",
    "shop/views.py": "import stock.internal\nimport stock.models\n",
    "stock/__init__.py": "",
    "stock/services.py": "",
    "stock/models.py": "",
    "stock/internal.py": "def later():\n    import shop.services\n",
}


@pytest.fixture
def graph(tmp_path, monkeypatch):
    for name, text in FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield grimp.build_graph("shop", "stock", cache_dir=None)
    for name in [m for m in sys.modules if m.split(".")[0] in ("shop", "stock")]:
        del sys.modules[name]


def interfaces(**options):
    return AppInterfacesContract(
        name="interfaces",
        session_options={},
        contract_options={"apps": ["shop", "stock"], "public": ["services", "models"], **options},
    )


def test_an_import_of_another_app_outside_its_public_modules_breaks_the_contract(graph):
    check = interfaces().check(graph, verbose=False)
    assert not check.kept
    assert check.metadata["broken"] == ["shop.views -> stock.internal (l.1)"]


def test_a_listed_exception_keeps_it_and_a_stale_exception_breaks_it(graph):
    assert interfaces(allowed=["shop.views -> stock.internal"]).check(graph, verbose=False).kept
    stale = interfaces(allowed=["shop.views -> stock.internal", "shop.services -> stock.internal"])
    check = stale.check(graph, verbose=False)
    assert not check.kept and "not imported any more" in check.metadata["broken"][0]


def test_a_cycle_between_apps_breaks_the_cycle_contract_unless_its_edge_is_allowed(graph):
    def cycles(allowed):
        return AppCyclesContract(
            name="cycles",
            session_options={},
            contract_options={"apps": ["shop", "stock"], "allowed_cycle_edges": allowed},
        )

    check = cycles([]).check(graph, verbose=False)
    assert not check.kept and any(line.startswith("shop -> stock -> shop") for line in check.metadata["broken"])
    assert cycles(["stock -> shop"]).check(graph, verbose=False).kept
