"""import-linter contracts of the app boundaries (``make lint``; configured in ``.importlinter``).

- ``app_interfaces``: an app imports another app only through its public modules (``services``,
  ``selectors``, ``models`` and what lives below them); every exception is listed in the contract's
  ``allowed`` with the reason beside it in ``.importlinter``.
- ``app_cycles``: the graph of apps (app A imports app B) has no cycle but those made only of the
  edges listed in ``allowed_cycle_edges`` (the documented alerts ⇄ incidents edge).

Both read the import graph grimp builds (every ``import``, also inside functions, also under
``TYPE_CHECKING``); docs/design/architecture.md explains the rules.
"""

from __future__ import annotations

from importlinter import Contract, ContractCheck, fields, output


def _app_of(module: str, apps: list[str]) -> str | None:
    """The app a module belongs to (the longest matching app package), or None."""
    best = None
    for app in apps:
        if (module == app or module.startswith(app + ".")) and (best is None or len(app) > len(best)):
            best = app
    return best


def _app_imports(graph, apps: list[str]):
    """Yield ``(importer, imported, importer app, imported app, line numbers)`` for imports across apps."""
    for importer in sorted(graph.modules):
        source = _app_of(importer, apps)
        if source is None:
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            target = _app_of(imported, apps)
            if target is None or target == source:
                continue
            details = graph.get_import_details(importer=importer, imported=imported)
            yield importer, imported, source, target, [d["line_number"] for d in details]


class AppInterfacesContract(Contract):
    """Apps import each other only through ``public`` modules; ``allowed`` lists ``importer -> imported`` exceptions."""

    type_name = "app_interfaces"

    apps = fields.ListField(subfield=fields.StringField())
    public = fields.ListField(subfield=fields.StringField())
    allowed = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph, verbose: bool) -> ContractCheck:
        apps = list(self.apps)  # type: ignore[call-overload]
        public = set(self.public)  # type: ignore[call-overload]
        allowed = {tuple(part.strip() for part in item.split("->")) for item in (self.allowed or [])}  # type: ignore[union-attr]
        used = set()
        broken = []
        for importer, imported, _source, target, lines in _app_imports(graph, apps):
            rest = imported[len(target) + 1 :].split(".")[0] if imported != target else ""
            if rest in public:
                continue
            if (importer, imported) in allowed:
                used.add((importer, imported))
                continue
            broken.append(f"{importer} -> {imported} (l.{', '.join(map(str, lines))})")
        stale = sorted(f"{a} -> {b}" for a, b in allowed - used)
        broken += [f"allowed but not imported any more (remove it from .importlinter): {s}" for s in stale]
        return ContractCheck(kept=not broken, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for line in check.metadata["broken"]:
            output.print_error(line)
        output.print("Import the other app's services, selectors or models (docs/design/architecture.md).")


class AppCyclesContract(Contract):
    """No cycle in the graph of apps but those made only of ``allowed_cycle_edges`` (``a -> b``)."""

    type_name = "app_cycles"

    apps = fields.ListField(subfield=fields.StringField())
    allowed_cycle_edges = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph, verbose: bool) -> ContractCheck:
        apps = list(self.apps)  # type: ignore[call-overload]
        allowed = {tuple(p.strip() for p in e.split("->")) for e in (self.allowed_cycle_edges or [])}  # type: ignore[union-attr]
        edges: dict[str, dict[str, str]] = {app: {} for app in apps}
        for importer, imported, source, target, _lines in _app_imports(graph, apps):
            edges[source].setdefault(target, f"{importer} -> {imported}")
        broken = []
        # An edge a -> b is in a cycle when b reaches a; allowed edges are left out of the search.
        for a in apps:
            for b, example in edges[a].items():
                if (a, b) in allowed:
                    continue
                path = _path(edges, b, a, allowed)
                if path is not None:
                    broken.append(f"{' -> '.join([a, *path])} (e.g. {example})")
        return ContractCheck(kept=not broken, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for line in check.metadata["broken"]:
            output.print_error(line)
        output.print("Break the cycle: move the shared concept to the lower app, or call back through a signal.")


def _path(edges: dict[str, dict[str, str]], start: str, goal: str, allowed: set) -> list[str] | None:
    """A path of apps from ``start`` to ``goal`` over edges not in ``allowed``, or None (breadth first)."""
    seen = {start}
    queue = [[start]]
    while queue:
        path = queue.pop(0)
        if path[-1] == goal:
            return path
        for nxt in sorted(edges.get(path[-1], {})):
            if nxt not in seen and (path[-1], nxt) not in allowed:
                seen.add(nxt)
                queue.append([*path, nxt])
    return None
