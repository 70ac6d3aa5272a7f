"""The package's import graph has no cycle, counting imports inside functions too, so none of those
can be hiding one (grimp reads every import statement of the package)."""

from __future__ import annotations

import grimp


def test_no_module_of_the_package_imports_itself_back():
    graph = grimp.build_graph("foodbank_platform")
    cycles = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back:
                cycles.append(" -> ".join((module, *back)))
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_graph_is_the_whole_package():
    """Guards the test above against reading an empty or partial graph."""
    graph = grimp.build_graph("foodbank_platform")
    assert {
        "foodbank_platform.definitions",
        "foodbank_platform.formats.plan",
        "foodbank_platform.landing.uri",
        "foodbank_platform.defs.assets.dbt",
        "foodbank_platform.ingest.loader",
    } <= graph.modules
    assert graph.direct_import_exists(
        importer="foodbank_platform.landing.s3", imported="foodbank_platform.landing.store"
    )
