"""The documented SPARQL queries in ``queries/``: each one runs on the bundled graph and gives
the answer the two source documents give.

Expected values are read from the sources, not from the query output; each block cites the
place in ``../shared/sources/`` it comes from (``iic2014:L`` = line L of
``000_183e37f28ad00fcc.txt``, the 2014 IIC booklet; ``km2018:L`` = line L of
``001_a6f3d32e067f6513.txt``, the KM report on 2018).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from server.config import REPO_ROOT
from server.queries import parse_query_file

QUERIES = REPO_ROOT / "queries"
BASE = "https://w3id.org/romagraph/"

# every query file and the test(s) that check its answer
COVERED = {
    "list_responsible_for_task", "list_plan_task_tree", "list_municipality_activities",
    "sum_funding_by_source_and_year", "list_regional_ngo_projects_2018", "list_ngos_and_projects",
    "describe_roma_council", "list_consultative_bodies", "compare_unemployment_trend",
    "compare_population_figures", "list_pupils_by_school_year", "compare_actors_between_documents",
    "list_eu_documents_and_references", "list_legal_basis", "list_op_objectives_funding",
    "list_events_by_month", "list_roma_mediators_and_assistants", "count_projects_by_theme",
    "describe_fact_citations", "list_eu_pillar_coverage", "rank_organisations_by_participation",
    "list_document_identifiers", "list_expert_network_members", "compare_unemployed_profiles",
    "list_labour_market_measures",
}


# ------------------------------------------------------------------ helpers

def short(value: str) -> str:
    return value[len(BASE):] if value.startswith(BASE) else value


def py(term: ox.NamedNode | ox.Literal | ox.BlankNode | None):
    """A result term as a plain Python value: IRIs shortened, numbers as int/Decimal."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return short(term.value)
    if isinstance(term, ox.Literal):
        dt = term.datatype.value if term.datatype else ""
        if dt.endswith(("#integer", "#int", "#long")):
            return int(term.value)
        if dt.endswith(("#decimal", "#double", "#float")):
            d = Decimal(term.value)
            return int(d) if d == d.to_integral_value() else d
        return term.value
    return str(term)


def text_of(name: str) -> str:
    return (QUERIES / f"{name}.rq").read_text(encoding="utf-8")


def run_text(store, text: str) -> list[dict]:
    result = store.raw_query(text)
    names = [v.value for v in result.variables]
    return [{n: py(row[n]) for n in names} for row in result]


def run(store, name: str, replace: tuple[str, str] | None = None) -> list[dict]:
    text = text_of(name)
    if replace:
        old, new = replace
        assert old in text, f"{name}: default parameter {old!r} not found"
        text = text.replace(old, new)
    return run_text(store, text)


def split(value: str | None, sep: str) -> set[str]:
    return {s.strip() for s in (value or "").split(sep) if s.strip()}


# ------------------------------------------------------------------ the files themselves

def query_files() -> list[Path]:
    return sorted(QUERIES.glob("*.rq"))


def test_at_least_22_queries_each_tested() -> None:
    stems = {p.stem for p in query_files()}
    assert len(stems) >= 22
    assert stems == COVERED, f"untested: {stems - COVERED}; missing: {COVERED - stems}"


@pytest.mark.parametrize("path", query_files(), ids=lambda p: p.name)
def test_query_file_header_and_syntax(path: Path) -> None:
    assert re.fullmatch(r"[a-z]+_[a-z0-9_]+\.rq", path.name), "name must be verb_noun.rq"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# Title: ") and len(lines[0]) > len("# Title: ") + 10
    assert lines[1] == "#"
    assert [ln.split(":", 1)[0] for ln in lines[2:6]] == ["# Question", "# Parameters", "# Columns", "# Source"]
    header = []
    for ln in lines:
        if not ln.startswith("#"):
            break
        header.append(ln)
    for key in ("Question:", "Parameters:", "Columns:", "Source:"):
        assert any(h.startswith(f"# {key}") for h in header), f"header lacks {key}"
    q = parse_query_file(path)
    assert q.title == lines[0][len("# Title: "):].strip()
    assert q.kind == "SELECT"
    # parses with no predefined prefixes: every prefix used is declared in the file
    ox.Store().query(q.text)
    # labels are shown, in a fixed language
    assert re.search(r'LANG\(\?\w+\)\s*=\s*"(en|lv)"', q.text), "query shows no labels"


def test_query_runs_from_the_command_line() -> None:
    exe = shutil.which("romagraph")
    cmd = [exe] if exe else [sys.executable, "-m", "server.cli"]
    r = subprocess.run(
        [*cmd, "query", "queries/list_regional_ngo_projects_2018.rq", "--format", "json"],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    rows = json.loads(r.stdout)
    # km2018:1506-1510 „Kopumā ir atbalstīti 5 romu NVO projekti … Kopējais piešķirtais finansējums ir 7596 eiro”
    assert len(rows) == 5
    assert {row["sumEUR"] for row in rows} == {"7596"}


# ------------------------------------------------------------------ 1. task 1.3.3

def test_list_responsible_for_task_default_1_3_3(store) -> None:
    rows = run(store, "list_responsible_for_task")
    item = [r for r in rows if r["kind"] == "plan item"]
    assert len(item) == 1
    # km2018:128-134 goal 1.3 „Veicināt iecietību …”, task 1.3.3 „Atbalsts romu sociālajai iekļaušanai”
    assert item[0]["task"] == "id/plan/nip-2019-2020/1.3.3"
    assert item[0]["taskLabel"] == "Atbalsts romu sociālajai iekļaušanai"
    assert item[0]["goalLabel"] == (
        "Veicināt iecietību un sociālās atstumtības riskam pakļauto grupu integrāciju sabiedrībā")
    # km2018:91-95 the report rests on KM and „līdzatbildīgo valsts iestāžu (IZM, LM, VM, NVA SIF)”;
    # iic2014:353-361 KM makes, coordinates and evaluates Roma-integration policy
    inst = {r["agent"]: r["role"] for r in rows if r["kind"] == "responsible institution"}
    assert set(inst) == {
        "id/org/kulturas-ministrija", "id/org/izglitibas-un-zinatnes-ministrija",
        "id/org/labklajibas-ministrija", "id/org/veselibas-ministrija",
        "id/org/nodarbinatibas-valsts-agentura", "id/org/sabiedribas-integracijas-fonds",
    }
    assert inst["id/org/kulturas-ministrija"] in {"responsible", "coordinator"}
    assert {v for k, v in inst.items() if k != "id/org/kulturas-ministrija"} == {"co-responsible"}
    # neither document links a project to task 1.3.3 of the 2019–2020 plan (km2018:122-138 only names it)
    assert [r for r in rows if r["kind"] == "implementing project"] == []


def test_list_responsible_for_task_op_items_with_money_places_results(store) -> None:
    rows = run(store, "list_responsible_for_task", (
        "VALUES ?task { <id/plan/nip-2019-2020/1.3.3> }",
        "VALUES ?task { <id/plan/op-izaugsme-un-nodarbinatiba/8.3.2> <id/plan/op-izaugsme-un-nodarbinatiba/9.2.4> }",
    ))
    proj = {(r["task"].rsplit("/", 1)[1], r["project"]): r for r in rows if r["kind"] == "implementing project"}
    # km2018:927-933 VISC project 8.3.2.2/16/I/001 under SAM 8.3.2; fn20 (km2018:967-969)
    # „kopējais finansējums: 32 005 188 EUR, t.sk. ES fondu līdzfinansējums ir 27 204 409 EUR, valsts budžeta … 4 800 779 EUR”
    visc = proj[("8.3.2", "id/project/atbalsts-izglitojamo-individualo-kompetencu-attistibai")]
    assert visc["agent"] == "id/org/valsts-izglitibas-satura-centrs"
    assert visc["fundingEUR"] == 27204409 + 4800779 == 32005188
    assert "Latvia" in split(visc["places"], ",")
    # km2018:1940-1944 the Daugavpils teacher's assistant in this project supports 27 Roma pupils
    assert re.search(r"= 27\b", visc["results"])
    # km2018:1466-1476 measure 9.2.4.1 of SAM 9.2.4: physical-activity campaign, smoking pilot, oral-health programme
    assert {p for (t, p) in proj if t == "9.2.4"} == {
        "id/event/2018-fizisko-aktivitasu-veicinasanas-kampana",
        "id/project/pilotprojekts-smekesanas-atmesanai",
        "id/project/mutes-un-zobu-veselibas-veicinasanas-programma-berniem",
    }


# ------------------------------------------------------------------ 2. task tree

def test_list_plan_task_tree(store) -> None:
    rows = run(store, "list_plan_task_tree")
    by_plan: dict[str, set[str]] = {}
    parent: dict[str, str | None] = {}
    inst: dict[str, str] = {}
    for r in rows:
        by_plan.setdefault(r["plan"], set()).add(r["notation"] or r["item"])
        parent[r["item"]] = r["parentNotation"]
        inst[r["item"]] = r["institutions"] or ""
    # km2018:122-138 goal 1.3 with tasks 1.3.1, 1.3.3, 1.3.4
    assert by_plan["id/doc/nip-2019-2020"] == {"1.3", "1.3.1", "1.3.3", "1.3.4"}
    for t in ("1.3.1", "1.3.3", "1.3.4"):
        assert parent[f"id/plan/nip-2019-2020/{t}"] == "1.3"
    # iic2014:185 „Rīcības plāna 1.3.6.uzdevums …”
    assert by_plan["id/doc/nip-ricibas-plans-2012-2018"] == {"1.3.6"}
    # km2018:929-931 (8.3.2), 2206 (8.3.4), 160 and fn42 (9.1.4, 9.1.4.4), 1450-1460 (9.2.4, 9.2.4.1, 9.2.4.2)
    assert by_plan["id/doc/op-izaugsme-un-nodarbinatiba"] == {
        "8.3.2", "8.3.4", "9.1.4", "9.1.4.4", "9.2.4", "9.2.4.1", "9.2.4.2"}
    op = "id/plan/op-izaugsme-un-nodarbinatiba/"
    assert parent[op + "9.1.4.4"] == "9.1.4"
    assert parent[op + "9.2.4.1"] == parent[op + "9.2.4.2"] == "9.2.4"
    # km2018:1482 „SPKC sadarbībā ar pašvaldībām īstenoja …” (measure 9.2.4.2)
    assert "Centre for Disease Prevention and Control" in inst[op + "9.2.4.2"]
    # iic2014:239-253 the four areas of the EU framework
    assert by_plan["id/doc/es-programma-romu-integracijas-strategijam-lidz-2020"] == {"1", "2", "3", "4"}
    # iic2014:277-300 twelve areas of guidance of the Council recommendation
    assert len(by_plan["id/doc/padomes-ieteikums-2013-c-378-01"]) == 12
    # iic2014:316-324 three recommendations of the Commission fact sheet
    assert len(by_plan["id/doc/eiropas-komisijas-faktu-lapa-par-latviju-2014"]) == 3
    # km2018:1411-1413 reducing inequality in health, a priority goal of VM in the public-health guidelines
    health = [i for i, r in ((r["item"], r) for r in rows)
              if r["plan"] == "id/doc/sabiedribas-veselibas-pamatnostadnes-2014-2020"]
    assert len(health) == 1 and "Ministry of Health (responsible)" in inst[health[0]]


# ------------------------------------------------------------------ 3. one municipality

def test_list_municipality_activities_jelgava(store) -> None:
    rows = run(store, "list_municipality_activities")
    located = {r["thing"] for r in rows
               if r["connection"] in ("located in the place", "held at an institution in the place")}
    events = {t for t in located if t.startswith("id/event/")}
    assert events == {
        "id/event/2018-ziemassvetku-pasakums-romu-gimenem-jelgava",          # km2018:1820-1822
        "id/event/2018-mates-dienai-veltits-pasakums-romu-gimenem-jelgava",  # km2018:1823
        "id/event/2018-ekskursija-latvijas-tradicijas",                       # km2018:1824-1825
        "id/event/2018-uguniga-roze",                                         # km2018:1836-1842
        "id/event/2018-vasaras-nometne-romu-berniem-jelgava",                 # km2018:1850-1858
        "id/event/2018-rotallietu-bibliotekas-ringla-atklasana",              # km2018:1860-1866
        "id/event/2018-ar-prieku-preti-zinasanam",                            # km2018:1890-1894
        "id/event/2018-10-03-ekspertu-tematiska-vizite",                      # km2018:839-843
        "id/event/2018-10-02-tematiska-vizite",                               # km2018:2469-2473
    }
    orgs = {r["thing"] for r in rows if r["thing"].startswith("id/org/")
            and r["connection"] in ("located in the place", "institution of the local government")}
    assert orgs == {
        "id/org/jelgavas-pilsetas-pasvaldiba",                          # iic2014:724, km2018:1772
        "id/org/jelgavas-izglitibas-parvalde",                          # iic2014:724
        "id/org/jelgavas-socialo-lietu-parvalde",                       # km2018:1797
        "id/org/jelgavas-pilsetas-sabiedribas-integracijas-parvalde",   # km2018:1817
        "id/org/jelgavas-pirmsskolas-izglitibas-iestade-pasacina",      # km2018:1778
        "id/org/jelgavas-4-sakumskola",                                 # km2018:1022, 1778
        "id/org/rotallietu-biblioteka-ringla",                          # km2018:1860
        "id/org/romanu-cacipen",                                        # km2018:1838
    }
    takes_part = {r["thing"] for r in rows if r["connection"] == "local government or its institution takes part"}
    assert takes_part == {
        "id/source/km2018",                                                      # km2018:93-95
        "id/event/2018-05-17-pieredzes-apmainas-seminars-par-romu-mediatoru-darbu",  # km2018:367
        "id/event/2018-10-03-ekspertu-diskusija",                                # km2018:769
        "id/project/latvijas-romu-platforma-3",                                  # km2018:449-451
        "id/project/proti-un-dari",                                              # km2018:2256-2264
        "id/project/inovativs-veids-romu-bernu-izglitibai-un-aprupei",           # km2018:1862-1866
        "id/project/integracijas-inkubators",                                    # iic2014:724
        "id/event/2018-ziemassvetku-pasakums-romu-gimenem-jelgava",              # km2018:1817-1822
        "id/event/2018-mates-dienai-veltits-pasakums-romu-gimenem-jelgava",
        "id/event/2018-ekskursija-latvijas-tradicijas",
        "id/project/jelgavas-socialo-lietu-parvaldes-atbalsts-romu-gimenem-2018",  # km2018:1797-1815
    }
    member = {r["thing"] for r in rows if r["connection"] == "member of"}
    assert member == {"id/org/romu-integracijas-ekspertu-tikls"}                # km2018:251-252
    funded = {r["thing"]: r["roles"] for r in rows if r["connection"] == "funded by the local government"}
    # km2018:1850 „Jelgavas pilsētas pašvaldības piešķirtajam atbalstam (1500 euro)”
    assert funded["id/event/2018-vasaras-nometne-romu-berniem-jelgava"] == "funder (1500 EUR)"
    # km2018:449-451 Jelgava co-finances the Roma mediator in LRP 3
    assert "id/project/latvijas-romu-platforma-3" in funded


# ------------------------------------------------------------------ 4. funding sums

def test_sum_funding_by_source_and_year(store) -> None:
    rows = run(store, "sum_funding_by_source_and_year")
    tot = {(r["source"], r["year"]): r for r in rows}
    # km2018:1506-1510 five Roma NGO projects, 7596 EUR, all in 2018
    ngo = tot[("id/programme/regionalo-nvo-atbalsta-konkursi", "2018")]
    assert (ngo["grants"], ngo["grantsWithAmount"], ngo["totalEUR"]) == (5, 5, 7596)
    # ESF: fn20 27 204 409 (km2018:967) + fn26 14 188 878 (km2018:1537) + fn27 32 888 538 (km2018:1542)
    esf = [r for r in rows if r["source"] == "id/programme/esf"]
    assert sum(r["totalEUR"] or 0 for r in esf) == 27204409 + 14188878 + 32888538 == 74281825
    assert sum(r["grantsWithAmount"] for r in esf) == 3
    # state budget: fn20 4 800 779 + fn26 2 503 920 + fn27 5 803 860
    sb = [r for r in rows if r["source"] == "id/programme/valsts-budzets"]
    assert sum(r["totalEUR"] or 0 for r in sb) == 4800779 + 2503920 + 5803860 == 13108559
    # km2018:1850 Jelgava 1500 EUR for the 2018 summer camp; fn38 (km2018:2182-2184) Limbaži 8 910 EUR in 2017
    assert tot[("id/org/jelgavas-pilsetas-pasvaldiba", "2018")]["totalEUR"] == 1500
    assert tot[("id/org/limbazu-novada-pasvaldiba", "2017")]["totalEUR"] == 8910
    # every printed amount counted exactly once
    assert sum(r["totalEUR"] or 0 for r in rows) == 7596 + 74281825 + 13108559 + 1500 + 8910


# ------------------------------------------------------------------ 5. regional NGO projects

def test_list_regional_ngo_projects_2018(store) -> None:
    rows = run(store, "list_regional_ngo_projects_2018")
    got = {r["project"]: (r["ngo"], r["amountEUR"]) for r in rows}
    assert got == {
        "id/project/kultura-mus-vieno": (BASE + "id/org/alternativas", 1600),                   # km2018:1518-1520, 1611-1613
        "id/project/esi-radoss-un-iesaisties": (BASE + "id/org/alternativas", 1000),            # km2018:1618-1622, 1641-1643
        "id/project/daugavpils-romi-latvijas-simtgade": (BASE + "id/org/nevo-drom-d", 1500),     # km2018:1645-1659
        "id/project/par-stipram-un-prasmigam-gimenem": (BASE + "id/org/life-and-light-latvia", 1996),  # km2018:1661-1676
        "id/project/ame-roma": (BASE + "id/org/zora-7", 1500),                                   # km2018:1678-1688
    }
    for r in rows:
        # km2018:1506-1510 „Kopumā ir atbalstīti 5 romu NVO projekti … Kopējais piešķirtais finansējums ir 7596 eiro”
        assert (r["sumEUR"], r["projectCount"]) == (7596, 5)
        assert (r["reportedTotalEUR"], r["reportedProjects"]) == (7596, 5)


# ------------------------------------------------------------------ 6. NGOs and projects

def test_list_ngos_and_projects(store) -> None:
    rows = run(store, "list_ngos_and_projects")
    ngos = {r["ngo"] for r in rows}
    # iic2014:619-670 the NGOs of section III-3
    assert {"id/org/latvijas-cilvektiesibu-centrs", "id/org/izglitibas-iniciativu-centrs",
            "id/org/alternativas", "id/org/romu-kulturas-centrs"} <= ngos
    implementer = {(r["ngo"], r["project"]) for r in rows if r["role"] == "implementer"}
    assert implementer == {
        ("id/org/alternativas", "id/project/kultura-mus-vieno"),                          # km2018:1518-1520
        ("id/org/alternativas", "id/project/esi-radoss-un-iesaisties"),                   # km2018:1618-1622
        ("id/org/nevo-drom-d", "id/project/daugavpils-romi-latvijas-simtgade"),           # km2018:1645-1647
        ("id/org/life-and-light-latvia", "id/project/par-stipram-un-prasmigam-gimenem"),  # km2018:1661-1665
        ("id/org/zora-7", "id/project/ame-roma"),                                          # km2018:1678
        ("id/org/romu-kulturas-centrs", "id/project/romu-vestures-atceres-projekts-dziva-atmina"),  # km2018:166-168
        ("id/org/romu-kulturas-centrs", "id/project/romu-genocida-upuru-izpete"),         # km2018:1722
        ("id/org/romu-kulturas-centrs", "id/project/romu-kulturas-centrs-sabiedribas-izglitosanas-pasakumi-2018"),  # km2018:1690-1696
        ("id/org/samir", "id/project/ar-mirandas-acim"),                                   # km2018:2399-2401
        ("id/org/izglitibas-iniciativu-centrs", "id/project/integracijas-inkubators"),    # iic2014:678, 716-718
        ("id/org/izglitibas-iniciativu-centrs", "id/project/inovativs-veids-romu-bernu-izglitibai-un-aprupei"),  # km2018:1862-1866
        ("id/org/izglitibas-iniciativu-centrs", "id/project/kompetents-pedagogs-21-gadsimta"),  # km2018:1969-1972
    }
    # km2018:2327-2333 the five service providers of „Dažādību veicināšana”
    assert {r["ngo"] for r in rows if r["project"] == "id/project/dazadibu-veicinasana"} == {
        "id/org/latvijas-sarkanais-krusts", "id/org/izglitibas-iniciativu-centrs", "id/org/sustento",
        "id/org/mini-sd", "id/org/krizes-centrs-gimenem-ar-berniem-pasparne"}


# ------------------------------------------------------------------ 7. Roma council

def test_describe_roma_council(store) -> None:
    rows = run(store, "describe_roma_council")
    by = {}
    for r in rows:
        by.setdefault(r["aspect"], {})[r["value"]] = r
    assert set(by["host institution"]) == {"id/org/kulturas-ministrija"}        # iic2014:462-465 „KM … padome”
    # km2018 fn3 (km2018:204) KM order of 24.08.2012 No. 6-1-205; km2018:85-89 by-laws approved 6.07.2012, nr.6-4-18
    fw = {k: str(v["date"]) for k, v in by["formal framework"].items()}
    assert fw == {"id/doc/km-rikojums-6-1-205-2012": "2012-08-24", "id/doc/romu-padomes-nolikums": "2012-07-06"}
    assert set(by["founded"]) == {"2012-08-24"}
    # km2018:1365-1369 „NVA pārstāvji piedalās … Romu integrācijas politikas īstenošanas … padomes darbā”
    members = set(by.get("member", {})) | set(by.get("takes part in its work", {}))
    assert members == {"id/org/nodarbinatibas-valsts-agentura"}
    # iic2014:476-479 purpose includes activating the civic participation of the Roma community
    assert "def/theme/participation" in by["purpose"]
    # km2018:144-148 the 2018 meeting; 184-190 annual LRP meeting and the expert discussion
    assert set(by["meeting/event"]) == {
        "id/event/2018-romu-padomes-sede",
        "id/event/2018-06-29-ikgadeja-latvijas-romu-platformas-koordinacijas-sanaksme",
        "id/event/2018-10-03-ekspertu-diskusija",
    }


# ------------------------------------------------------------------ 8. councils and committees

def test_list_consultative_bodies(store) -> None:
    rows = run(store, "list_consultative_bodies")
    hosts = {r["body"]: r["host"] for r in rows}
    # iic2014:430-616 five councils and two committees; km2018 fn7 (km2018:331) the expert network (KM, 22.10.2014)
    assert hosts == {
        "id/org/valsts-prezidenta-mazakumtautibu-konsultativa-padome": "id/org/valsts-prezidents",
        "id/org/romu-integracijas-politikas-istenosanas-konsultativa-padome": "id/org/kulturas-ministrija",
        "id/org/konsultativa-padome-mazakumtautibu-izglitibas-jautajumos": "id/org/izglitibas-un-zinatnes-ministrija",
        "id/org/tiesibsarga-romu-konsultativa-padome": "id/org/tiesibsarga-birojs",
        "id/org/konsultativa-padome-treso-valstu-pilsonu-integracijai": "id/org/kulturas-ministrija",
        "id/org/socialas-ieklausanas-politikas-koordinacijas-komiteja": "id/org/labklajibas-ministrija",
        "id/org/mazakumtautibu-nevalstisko-organizaciju-parstavju-konsultativa-komiteja": "id/org/kulturas-ministrija",
        "id/org/romu-integracijas-ekspertu-tikls": "id/org/kulturas-ministrija",
    }
    docs = {r["body"]: split(r["documents"], ",") for r in rows}
    assert docs["id/org/romu-integracijas-politikas-istenosanas-konsultativa-padome"] == {"iic2014", "km2018"}
    assert docs["id/org/romu-integracijas-ekspertu-tikls"] == {"km2018"}
    founded = {r["body"]: str(r["founded"]) for r in rows if r["founded"]}
    assert founded["id/org/romu-integracijas-ekspertu-tikls"] == "2014-10-22"   # km2018:331


# ------------------------------------------------------------------ 9. unemployment

def test_compare_unemployment_trend(store) -> None:
    rows = run(store, "compare_unemployment_trend")
    got = {r["year"]: (r["registeredUnemployed"], r["over3YearsPersons"], r["over3YearsPercent"], r["document"])
           for r in rows}
    assert got == {
        "2012": (799, None, Decimal("25.4"), "iic2014"),   # iic2014:82-85
        "2013": (658, None, Decimal("26.1"), "iic2014"),   # iic2014:87
        "2017": (615, None, None, "km2018"),               # km2018:1042
        "2018": (564, 120, Decimal("21.2"), "km2018"),     # km2018:1032-1040, table 1 km2018:1068
    }
    assert {r["year"]: r["publisher"] for r in rows} == {"2012": "LM", "2013": "LM", "2017": "NVA", "2018": "NVA"}


# ------------------------------------------------------------------ 10. population

def test_compare_population_figures(store) -> None:
    rows = run(store, "compare_population_figures")
    got = {str(r["refPeriod"]): (r["roma"], r["citizens"], r["citizensPercent"], r["publisher"], r["document"])
           for r in rows}
    assert got == {
        "2013-07-01": (8291, 7815, Decimal("94.26"), "PMLP", "iic2014"),   # iic2014:59-60, 96-98
        "2017": (5191, None, None, "CSP", "km2018"),                       # km2018:106-108
        "2018": (5082, None, None, "CSP", "km2018"),                       # km2018:106
        "2019-01-01": (7060, None, Decimal("94.4"), "PMLP", "km2018"),     # km2018:102-106
    }


# ------------------------------------------------------------------ 11. pupils

def test_list_pupils_by_school_year(store) -> None:
    rows = run(store, "list_pupils_by_school_year")
    got = {(r["schoolYear"], r["areaLabel"], r["breakdownLabel"] or "", r["pupils"], r["document"]) for r in rows}
    assert got == {
        ("2014/2015", "Latvia", "", 1018, "iic2014"),                                  # iic2014:91
        ("2017/2018", "Latvia", "Total", 945, "km2018"),                               # km2018:873-875
        ("2017/2018", "Latvia", "day-time programmes", 852, "km2018"),                 # km2018:877
        ("2017/2018", "Latvia", "evening and distance programmes", 93, "km2018"),      # km2018:877-879
        ("2017/2018", "Ventspils", "", 70, "km2018"),                                  # km2018 fn37 (2179)
    }


# ------------------------------------------------------------------ 12. what changed

def test_compare_actors_between_documents(store) -> None:
    rows = run(store, "compare_actors_between_documents")
    status = {r["actor"]: r["status"] for r in rows}
    councils = {r["actor"]: r["status"] for r in rows if r["kind"] == "ConsultativeBody"}
    # iic2014:430-616 (councils of 2014); km2018 II-council and II-cooperation (Roma council, expert network)
    assert councils == {
        "id/org/valsts-prezidenta-mazakumtautibu-konsultativa-padome": "only iic2014",
        "id/org/konsultativa-padome-mazakumtautibu-izglitibas-jautajumos": "only iic2014",
        "id/org/tiesibsarga-romu-konsultativa-padome": "only iic2014",
        "id/org/konsultativa-padome-treso-valstu-pilsonu-integracijai": "only iic2014",
        "id/org/socialas-ieklausanas-politikas-koordinacijas-komiteja": "only iic2014",
        "id/org/mazakumtautibu-nevalstisko-organizaciju-parstavju-konsultativa-komiteja": "only iic2014",
        "id/org/romu-integracijas-politikas-istenosanas-konsultativa-padome": "both",
        "id/org/romu-integracijas-ekspertu-tikls": "only km2018",
    }
    expected = {
        "id/org/kulturas-ministrija": "both",                       # iic2014:361, km2018 passim
        "id/org/izglitibas-iniciativu-centrs": "both",              # iic2014:645, km2018:1864
        "id/org/romu-kulturas-centrs": "both",                      # iic2014:670, km2018:166
        "id/org/alternativas": "both",                              # iic2014:663, km2018:1518
        "id/org/labklajibas-ministrija": "both",                    # iic2014:89, 582; km2018:41
        "id/org/tiesibsarga-birojs": "only iic2014",                # iic2014:101, 391; absent from km2018
        "id/org/latvijas-cilvektiesibu-centrs": "only iic2014",     # iic2014:630
        "id/org/regionalas-attistibas-un-pasvaldibu-lietu-ministrija": "only iic2014",  # iic2014:104
        "id/org/nodarbinatibas-valsts-agentura": "only km2018",     # km2018:51
        "id/org/centrala-statistikas-parvalde": "only km2018",      # km2018:106
        "id/org/veselibas-ministrija": "only km2018",               # km2018:77
        "id/org/cahrom": "only km2018",                             # km2018:223, 2455
    }
    assert {k: status.get(k) for k in expected} == expected
    # neither document names these bodies, so no citation may place them in a document
    for unnamed in ("id/org/saeima", "id/org/vides-aizsardzibas-un-regionalas-attistibas-ministrija"):
        assert unnamed not in status, f"{unnamed} is cited but neither document names it"


# ------------------------------------------------------------------ 13. EU documents

def test_list_eu_documents_and_references(store) -> None:
    rows = run(store, "list_eu_documents_and_references")
    docs = {r["document"] for r in rows}
    assert docs == {
        "id/doc/es-programma-romu-integracijas-strategijam-lidz-2020",          # iic2014:206-207
        "id/doc/padomes-ieteikums-2013-c-378-01",                              # iic2014:257-259
        "id/doc/eiropas-komisijas-faktu-lapa-par-latviju-2014",                # iic2014:310, 327
        "id/doc/komisijas-pazinojums-par-romu-integracijas-strategiju-istenosanu-2013",  # iic2014:334-335
        "id/doc/kopejie-romu-ieklausanas-pamatprincipi",                       # iic2014:337 „ES Kopējie …”
        "id/doc/strasburas-deklaracija-par-romu-integraciju-2010",             # iic2014:339
        "id/doc/vispareja-konvencija-par-nacionalo-minoritasu-aizsardzibu",    # iic2014:144-147
        "id/doc/ek-zinojums-par-romu-integracijas-strategiju-ietvara-istenosanu-2014",  # km2018 fn7 (323-325)
        "id/doc/padomes-secinajumi-romu-integracijas-procesa-paatrinasana",    # km2018:891-892
    }
    issued = {r["document"]: str(r["issued"]) for r in rows if r["issued"] is not None}
    assert issued["id/doc/es-programma-romu-integracijas-strategijam-lidz-2020"] == "2011"   # printed „211”
    assert issued["id/doc/padomes-ieteikums-2013-c-378-01"] == "2013-12-09"                  # km2018:321
    assert issued["id/doc/eiropas-komisijas-faktu-lapa-par-latviju-2014"] == "2014-04-04"    # iic2014:310
    assert issued["id/doc/ek-zinojums-par-romu-integracijas-strategiju-ietvara-istenosanu-2014"] == "2014-04-02"  # km2018:323
    assert issued["id/doc/komisijas-pazinojums-par-romu-integracijas-strategiju-istenosanu-2013"] == "2013-06-26"  # iic2014:335
    assert issued["id/doc/padomes-secinajumi-romu-integracijas-procesa-paatrinasana"] == "2016-12-08"  # km2018:891
    assert issued["id/doc/strasburas-deklaracija-par-romu-integraciju-2010"] == "2010-10-20"  # iic2014:339
    refs = {(r["document"], r["other"]) for r in rows if r["relation"] == "references" and r["other"] in docs}
    framework = "id/doc/es-programma-romu-integracijas-strategijam-lidz-2020"
    # the fact sheet (iic2014:310), the 2013 communication (iic2014:334) and COM(2014) 209 (km2018:323-324)
    # report on the implementation of the EU framework
    assert refs == {
        ("id/doc/eiropas-komisijas-faktu-lapa-par-latviju-2014", framework),
        ("id/doc/komisijas-pazinojums-par-romu-integracijas-strategiju-istenosanu-2013", framework),
        ("id/doc/ek-zinojums-par-romu-integracijas-strategiju-ietvara-istenosanu-2014", framework),
    }


# ------------------------------------------------------------------ 14. legal basis

def test_list_legal_basis(store) -> None:
    rows = run(store, "list_legal_basis")
    acts = {r["act"]: r for r in rows}
    assert set(acts) == {
        "id/doc/satversme",                                           # iic2014:2, 8
        "id/doc/likums-par-nacionalo-un-etnisko-grupu-brivu-attistibu",  # iic2014:10-11, 137
        "id/doc/vispareja-konvencija-par-nacionalo-minoritasu-aizsardzibu",  # iic2014:144-147
        "id/doc/likums-par-visparejo-konvenciju",                     # iic2014:149
        "id/doc/km-rikojums-6-1-205-2012",                            # km2018 fn3 (204)
        "id/doc/romu-padomes-nolikums",                               # km2018:85-89
        "id/doc/mk-rikojums-345-2018",                                # km2018 fn2 (200)
        "id/doc/mk-protokollemums-27-32-2018",                        # km2018:739-741
        "id/doc/izglitibas-likums",                                   # km2018:907
        "id/doc/grozijumi-izglitibas-likuma",                         # km2018:907
        "id/doc/bezdarbnieku-un-darba-mekletaju-atbalsta-likums",     # km2018:1191, fn21
        "id/doc/mk-noteikumi-1529-2006",                              # km2018 fn25 (1427)
        "id/doc/mk-noteikumi-310-2016",                               # km2018:1450
        "id/doc/mk-rikojums-71-2014",                                 # km2018 fn39 (2283)
        "id/doc/mk-noteikumi-102-2016",                               # km2018 fn42 (2298)
        "id/doc/padomes-ieteikums-2013-c-378-01",                     # iic2014:257-259
    }
    mk = {
        "id/doc/mk-rikojums-345-2018": ("2018-07-18", "Nr.345"),
        "id/doc/mk-protokollemums-27-32-2018": ("2018-06-05", "Nr.27., 32.§"),
        "id/doc/mk-noteikumi-1529-2006": ("2006-12-19", "Nr.1529"),
        "id/doc/mk-noteikumi-310-2016": ("2016-05-17", "Nr.310"),
        "id/doc/mk-rikojums-71-2014": ("2014-02-17", "Nr.71"),
        "id/doc/mk-noteikumi-102-2016": ("2016-02-09", "Nr.102"),
    }
    for act, (date, number) in mk.items():
        assert (acts[act]["issuer"], str(acts[act]["issued"]), acts[act]["identifier"]) == (
            "id/org/ministru-kabinets", date, number)
    assert (acts["id/doc/km-rikojums-6-1-205-2012"]["issuer"], str(acts["id/doc/km-rikojums-6-1-205-2012"]["issued"])) == (
        "id/org/kulturas-ministrija", "2012-08-24")
    assert str(acts["id/doc/romu-padomes-nolikums"]["issued"]) == "2012-07-06"
    assert str(acts["id/doc/likums-par-nacionalo-un-etnisko-grupu-brivu-attistibu"]["issued"]) == "1991"
    assert str(acts["id/doc/likums-par-visparejo-konvenciju"]["issued"]) == "2005"
    assert "ratifies" in acts["id/doc/likums-par-visparejo-konvenciju"]["relations"]
    assert "approves" in acts["id/doc/mk-rikojums-345-2018"]["relations"]


# ------------------------------------------------------------------ 15. OP objectives

def test_list_op_objectives_funding(store) -> None:
    rows = run(store, "list_op_objectives_funding")
    got = {r["notation"]: r for r in rows}
    assert set(got) == {"8.3.2", "8.3.4", "9.1.4", "9.1.4.4", "9.2.4", "9.2.4.1", "9.2.4.2"}
    # km2018 fn26 (1535-1537), fn27 (1540-1544)
    assert (got["9.2.4.1"]["esfEUR"], got["9.2.4.1"]["stateBudgetEUR"], got["9.2.4.1"]["totalEUR"]) == (
        14188878, 2503920, 16692798)
    assert (got["9.2.4.2"]["esfEUR"], got["9.2.4.2"]["stateBudgetEUR"], got["9.2.4.2"]["totalEUR"]) == (
        32888538, 5803860, 38692398)
    assert got["9.1.4.4"]["parentNotation"] == "9.1.4"
    assert got["9.2.4.1"]["parentNotation"] == got["9.2.4.2"]["parentNotation"] == "9.2.4"
    # km2018 fn20 (967-969)
    assert "Atbalsts izglītojamo individuālo kompetenču attīstībai [ESF 27204409; state budget 4800779]" in got["8.3.2"]["projects"]
    assert "Atbalsts priekšlaicīgas mācību pārtraukšanas samazināšanai" in got["8.3.4"]["projects"]   # km2018:2206-2208
    assert "Dažādību veicināšana" in got["9.1.4.4"]["projects"]                                       # km2018:2265, fn42
    assert {p.split(" [")[0] for p in split(got["9.2.4.1"]["projects"], ";")} == {               # km2018:1466-1476
        "Fizisko aktivitāšu veicināšanas kampaņa", "Pilotprojekts smēķēšanas atmešanai",
        "Programma pirmsskolas un sākumskolas vecuma bērniem par mutes un zobu veselības veicināšanu"}


# ------------------------------------------------------------------ 16. events by month

def test_list_events_by_month(store) -> None:
    rows = run(store, "list_events_by_month")
    months: dict[str, list[str]] = {}
    for r in rows:
        if len(r["month"]) == 7:
            months.setdefault(r["month"], []).append(str(r["start"]))
    assert {m: sorted(v) for m, v in months.items()} == {
        "2018-03": ["2018-03-14", "2018-03-15"],                     # km2018:465, 2447
        "2018-05": ["2018-05-17"],                                   # km2018:361
        "2018-06": ["2018-06-06", "2018-06-22", "2018-06-29"],       # km2018:565, 2457, 657
        "2018-07": ["2018-07", "2018-07-28"],                        # km2018:1570 (premiere within the XX Sabile wine festival)
        "2018-09": ["2018-09-15", "2018-09-21"],                     # km2018:1618, 1737
        "2018-10": ["2018-10", "2018-10-02", "2018-10-03", "2018-10-03", "2018-10-03",   # km2018:2425, 2473, 754, 839, 1914
                    "2018-10-08", "2018-10-16", "2018-10-27"],       # km2018:2447, 2457, 1605
        "2018-12": ["2018-12-11", "2018-12-12"],                     # km2018:853, 2374
    }
    counts = {r["event"]: r["participants"] for r in rows if r["participants"] is not None}
    assert counts == {
        "id/event/2018-06-29-ikgadeja-latvijas-romu-platformas-koordinacijas-sanaksme": 45,  # km2018:668 „ap 45”
        "id/event/2018-07-28-cajori-ringla-un-vecas-kacas-stasts": 10,     # km2018:1575 „ap 10”
        "id/event/2018-09-15-izglitojosais-kurss-romu-jauniesiem": 10,      # km2018:1627
        "id/event/2018-10-27-urdenoro": 30,                                  # km2018:1611 „vairāk nekā 30”
        "id/event/2018-12-12-iepazisanas-ar-latvijas-romu-kulturu": 64,     # km2018:2380
        "id/event/2018-ar-mirandas-acim-izglitojosie-seminari": 201,        # km2018:2407
        "id/event/2018-miranda-romu-holokausts": 3000,                      # km2018:2407 „ap 3000”
        "id/event/2018-uguniga-roze": 100,                                   # km2018:1842 „ap 100”
        "id/event/2018-vasaras-nometne-romu-berniem-jelgava": 20,           # km2018:1852
        "id/event/2018-ekskursija-latvijas-tradicijas": 40,                 # km2018:1825
    }


# ------------------------------------------------------------------ 17. mediators and assistants

def test_list_roma_mediators_and_assistants(store) -> None:
    rows = run(store, "list_roma_mediators_and_assistants")
    med14 = {(r["placeLabel"], r["personLabel"], str(r["from"]), str(r["until"]))
             for r in rows if r["roleName"] == "roma-mediator" and r["document"] == "iic2014"}
    # iic2014:678-701 July 2014 („2104”) – September 2015
    assert med14 == {
        ("Kurzeme", "Ruslans Miķelis", "2014-07", "2015-09"),
        ("Zemgale", "Dana Didžus", "2014-07", "2015-09"),
        ("Latgale", "Ludmila Marcinkeviča", "2014-07", "2015-09"),
        ("Vidzeme", "Vija Korenovska", "2014-07", "2015-09"),
    }
    med18 = [r for r in rows if r["roleName"] == "roma-mediator" and "km2018" in (r["document"] or "")]
    places = [r["placeLabel"] for r in med18]
    # km2018:311-313 five mediators from 1.10.2017 in Valmiera, Ventspils, Jelgava, Dobele and Rīga — one post each
    assert sorted(places) == sorted(["Valmiera", "Ventspils", "Jelgava", "Dobeles novads", "Rīga"])
    for r in med18:
        assert str(r["from"]).startswith("2017-10"), f"{r['post']} starts {r['from']}, the report says 1.10.2017"
    # km2018:443-446 Dobele did not continue from October 2018
    assert {r["placeLabel"]: str(r["until"]) for r in med18 if r["until"]} == {"Dobeles novads": "2018-05-31"}
    # km2018:2026-2027 Valmiera: „romu mediatore Vija Korenovska”
    assert {r["personLabel"] for r in med18 if r["placeLabel"] == "Valmiera"} == {"Vija Korenovska"}
    assistants = {(r["placeLabel"], r["employerLabel"]) for r in rows if r["roleName"] == "teacher-assistant"}
    assert assistants == {
        ("Jelgava", "Jelgavas 4.sākumskola"),                               # km2018:1022, 1778
        ("Limbažu novads", "Lādezera pamatskola"),                          # km2018:1022, 2149
        ("Daugavpils", "J.Raiņa Daugavpils 6.vidusskola"),                  # km2018:973-974, 1024
        ("Jelgava", "Jelgavas pirmsskolas izglītības iestāde „Pasaciņa”"),  # km2018:1776-1779
    }


# ------------------------------------------------------------------ 18. projects per theme

def test_count_projects_by_theme(store) -> None:
    rows = run(store, "count_projects_by_theme")
    by = {r["theme"]: r for r in rows}
    for r in rows:
        # a project is counted once per theme, however many labels or citations it has
        assert r["projectCount"] == len(split(r["projects"], ";"))
    # km2018:1466-1476 the only health projects: the smoking pilot and the oral-health programme
    assert split(by["def/theme/health"]["projects"], ";") == {
        "Pilotprojekts smēķēšanas atmešanai",
        "Programma pirmsskolas un sākumskolas vecuma bērniem par mutes un zobu veselības veicināšanu"}
    assert by["def/theme/health"]["projectCount"] == 2


# ------------------------------------------------------------------ 19. citations

def test_describe_fact_citations(store) -> None:
    rows = run(store, "describe_fact_citations")
    council = "id/org/romu-integracijas-politikas-istenosanas-konsultativa-padome"
    own = [r for r in rows if r["fact"] == council]
    sections = {(r["document"], r["section"]) for r in own}
    assert {("iic2014", "III-2"), ("km2018", "II-council"), ("km2018", "intro")} <= sections
    # km2018 fn3 (204): „Romu padome ir izveidota ar KM 2012.gada 24.augusta rīkojumu Nr.6 - 1-205”
    assert any(r["footnote"] == 3 and "24.augusta rīkojumu Nr.6 - 1-205" in r["quote"] for r in own)
    # km2018:1365-1369 the NVA membership is cited from II-employment
    nva = [r for r in rows if r["fact"] == "id/membership/romu-padome/nodarbinatibas-valsts-agentura"]
    assert nva and {(r["document"], r["section"]) for r in nva} == {("km2018", "II-employment")}

    rows = run(store, "describe_fact_citations", (
        "<id/org/romu-integracijas-politikas-istenosanas-konsultativa-padome> }",
        "<id/result/regionalo-nvo-atbalsta-konkursi-2018/total-funding> }"))
    assert {(r["document"], r["section"], r["footnote"]) for r in rows} == {("km2018", "III", None)}
    assert any("7596 eiro" in r["quote"] for r in rows)                  # km2018:1510

    rows = run(store, "describe_fact_citations", (
        "<id/org/romu-integracijas-politikas-istenosanas-konsultativa-padome> }",
        "<data/registered-unemployed/2017/total> }"))
    assert {(r["document"], r["section"]) for r in rows} == {("km2018", "II-employment")}
    assert any("615" in r["quote"] for r in rows)                        # km2018:1042


# ------------------------------------------------------------------ 20. EU pillars

def test_list_eu_pillar_coverage(store) -> None:
    rows = run(store, "list_eu_pillar_coverage")
    by = {r["pillar"].rsplit("/", 1)[1]: r for r in rows}
    assert set(by) == {"education", "employment", "health", "housing"}      # iic2014:239-253

    def notations(r):
        return {i.split(" ", 1)[0] for i in split(r["nationalItems"], ";")}
    # task 1.3.6 covers all four (iic2014:185-187); 1.3.4 education, 1.3.1 employment (km2018:130-138);
    # SAM 8.3.2 / 8.3.4 education (km2018:931, 2206), 9.1.4 labour market (km2018:160),
    # 9.2.4 and its measures health (km2018:1450-1460), VM's health-inequality goal (km2018:1411-1413, no number)
    assert notations(by["education"]) == {"1.3.4", "1.3.6", "8.3.2", "8.3.4"}
    assert notations(by["employment"]) == {"1.3.1", "1.3.6", "9.1.4"}
    assert notations(by["health"]) == {"1.3.6", "9.2.4", "9.2.4.1", "9.2.4.2", "–"}
    assert notations(by["housing"]) == {"1.3.6"}
    assert by["housing"]["nationalItemCount"] == 1
    assert split(by["health"]["projects"], ";") == {
        "Pilotprojekts smēķēšanas atmešanai",
        "Programma pirmsskolas un sākumskolas vecuma bērniem par mutes un zobu veselības veicināšanu"}
    assert by["health"]["euGoal"].startswith("3 ")                            # iic2014:248


# ------------------------------------------------------------------ 21. ranking

def test_rank_organisations_by_participation(store) -> None:
    rows = run(store, "rank_organisations_by_participation")
    assert rows[0]["organisation"] == "id/org/kulturas-ministrija"
    assert rows[0]["contexts"] > rows[1]["contexts"]
    # KM takes part in exactly these (distinct) things:
    #  LRP II and LRP 3 (km2018:263-266, 737-741); the events it organised (km2018:465, 361, 565-567, 657, 754-760, 839)
    #  or joined (km2018:2425-2447, 2457, 2374-2378, 2359-2363); the OP (km2018:2194); the expert network (km2018:243);
    #  the measures package it is responsible for (iic2014:353-361); the 2019–2020 tasks it coordinates (km2018:91-97, 122-138)
    assert rows[0]["contexts"] == 21
    nva = [r for r in rows if r["organisation"] == "id/org/nodarbinatibas-valsts-agentura"][0]
    # NVA: report information (km2018:93), labour seminar (508), ADTP and career counselling (1189-1343),
    # Youth Guarantee (2042-2043), LRP events and the Roma council (1365-1369), co-responsible for tasks 1.3.1/1.3.3/1.3.4
    assert nva["asMember"] == 1
    assert nva["contexts"] == len({
        "source/km2018", "seminar", "adtp", "career", "youth-guarantee", "lrp-ii", "romu-padome",
        "1.3.1", "1.3.3", "1.3.4"})


# ------------------------------------------------------------------ 22. identifiers

def test_list_document_identifiers(store) -> None:
    rows = run(store, "list_document_identifiers")
    likumi = {r["document"]: r["likumiId"] for r in rows if r["likumiId"]}
    assert likumi == {
        "id/doc/likums-par-nacionalo-un-etnisko-grupu-brivu-attistibu": "65772",   # iic2014:177
        "id/doc/vispareja-konvencija-par-nacionalo-minoritasu-aizsardzibu": "215962",  # iic2014:179
        "id/doc/likums-par-visparejo-konvenciju": "109252",                        # iic2014:180
        "id/doc/mk-rikojums-345-2018": "300483",                                   # km2018:200
        "id/doc/bezdarbnieku-un-darba-mekletaju-atbalsta-likums": "62539",         # km2018:1234
    }
    ids = {r["document"]: r["identifier"] for r in rows if r["identifier"]}
    assert ids["id/doc/es-programma-romu-integracijas-strategijam-lidz-2020"] == "COM(2011) 173"   # iic2014:232 (file name)
    assert ids["id/doc/ek-zinojums-par-romu-integracijas-strategiju-ietvara-istenosanu-2014"] == "COM(2014) 209"  # km2018:335
    assert ids["id/doc/padomes-ieteikums-2013-c-378-01"] == "2013/C 378/01"                       # iic2014:259
    assert ids["id/doc/mk-rikojums-345-2018"] == "Nr.345"
    # every identifier can be found in a source text (ignoring spaces and punctuation)
    sources = REPO_ROOT.parent / "shared" / "sources"
    corpus = re.sub(r"[\W_]+", "", "".join(
        p.read_text(encoding="utf-8") for p in sorted(sources.glob("*.txt")))).lower()
    for doc, ident in ids.items():
        assert re.sub(r"[\W_]+", "", ident).lower() in corpus, f"{doc}: identifier {ident!r} is not printed in the sources"
    for r in rows:
        if r["likumiId"]:
            assert r["likumiUrl"] == f"https://likumi.lv/doc.php?id={r['likumiId']}"


# ------------------------------------------------------------------ 23–25. more tables

def test_list_expert_network_members(store) -> None:
    rows = run(store, "list_expert_network_members")
    # km2018:249-259 „deleģētie pārstāvji no 18 Latvijas pašvaldībām (…)”
    assert {r["member"] for r in rows} == {f"id/org/{s}" for s in (
        "daugavpils-pilsetas-pasvaldiba", "jelgavas-pilsetas-pasvaldiba", "jekabpils-pilsetas-pasvaldiba",
        "jurmalas-pilsetas-pasvaldiba", "rigas-pilsetas-pasvaldiba", "dobeles-novada-pasvaldiba",
        "kandavas-novada-pasvaldiba", "kraslavas-novada-pasvaldiba", "limbazu-novada-pasvaldiba",
        "madonas-novada-pasvaldiba", "preilu-novada-pasvaldiba", "rezeknes-novada-pasvaldiba",
        "rujienas-novada-pasvaldiba", "tukuma-novada-pasvaldiba", "talsu-novada-pasvaldiba",
        "valmieras-pilsetas-pasvaldiba", "ventspils-pilsetas-pasvaldiba", "vilakas-novada-pasvaldiba")}
    assert {r["memberCount"] for r in rows} == {18}


def test_compare_unemployed_profiles(store) -> None:
    rows = run(store, "compare_unemployed_profiles")
    got = {r["profile"].rsplit("/", 1)[1]: (r["romaWomen"], r["romaMen"], r["romaTotal"], r["romaPercent"],
                                            r["allTotal"], r["allPercent"]) for r in rows}
    # km2018:1111-1177 table 2
    assert got == {
        "long-term": (140, 78, 218, Decimal("38.7"), 14944, Decimal("25.1")),
        "age-15-24": (28, 22, 50, Decimal("8.9"), 3445, Decimal("5.8")),
        "pre-retirement-age": (37, 35, 72, Decimal("12.8"), 10107, 17),
        "with-disability": (50, 31, 81, Decimal("14.4"), 8179, Decimal("13.7")),
        "after-childcare-leave": (19, 0, 19, Decimal("3.4"), 1009, Decimal("1.7")),
        "total": (347, 217, 564, 100, 59588, 100),
    }


def test_list_labour_market_measures(store) -> None:
    rows = run(store, "list_labour_market_measures")
    got = {r["measure"].rsplit("/", 1)[1]: (r["y2016"], r["y2017"], r["y2018"]) for r in rows}
    # km2018:1257-1315 table 3; km2018:1349-1351 „2016.gadā … 518, bet 2018.gadā – 1313”
    assert got["total"] == (518, 1230, 1313)
    assert got["long-term-unemployed-support"] == (None, 465, 593)
    assert got["paid-temporary-public-works"] == (None, 282, 297)
    assert got["competitiveness-measures"] == (None, 317, 261)
    assert got["yg-youth-workshops"] == (None, 13, 3)
    assert len(got) == 17          # 16 measures + the total
    parts = [v for k, v in got.items() if k != "total"]
    assert sum(v[1] for v in parts) == 1230 and sum(v[2] for v in parts) == 1313


# ------------------------------------------------------------------ duplicates do not inflate answers

def test_counts_and_sums_ignore_duplicate_citations_labels_and_links(store) -> None:
    """Add, on a copy of the graph, what multiple citations and double recording produce — a second
    citation, a second English label and a second place on every grant, project and membership, and a
    second membership node for every expert-network member — and check that counts and sums stay put."""
    names = ["sum_funding_by_source_and_year", "list_regional_ngo_projects_2018", "list_expert_network_members",
             "rank_organisations_by_participation", "count_projects_by_theme", "list_op_objectives_funding",
             "compare_unemployment_trend", "list_eu_pillar_coverage"]
    before = {n: run(store, n) for n in names}

    copy = ox.Store()
    copy.extend(store.inner.quads_for_pattern(None, None, None, None))
    s = "https://schema.org/"
    prov = ox.NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom")
    label = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
    spatial = ox.NamedNode("http://purl.org/dc/terms/spatial")
    g = ox.NamedNode(BASE + "graph/test-duplicates")
    extra = []
    for cls in (s + "MonetaryGrant", s + "Project", "http://www.w3.org/ns/org#Membership",
                "http://purl.org/linked-data/cube#Observation"):
        for q in copy.quads_for_pattern(None, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                                        ox.NamedNode(cls), None):
            node = q.subject
            extra += [ox.Quad(node, prov, ox.NamedNode(BASE + "id/citation/test/duplicate"), g),
                      ox.Quad(node, label, ox.Literal("duplicate label", language="en"), g),
                      ox.Quad(node, spatial, ox.NamedNode(BASE + "id/place/latvija"), g)]
    org = "http://www.w3.org/ns/org#"
    for q in list(copy.quads_for_pattern(None, ox.NamedNode(org + "organization"),
                                         ox.NamedNode(BASE + "id/org/romu-integracijas-ekspertu-tikls"), None)):
        for m in copy.quads_for_pattern(q.subject, ox.NamedNode(org + "member"), None, None):
            dup = ox.NamedNode(q.subject.value + "-duplicate")
            extra += [ox.Quad(dup, ox.NamedNode(org + "organization"), q.object, g),
                      ox.Quad(dup, ox.NamedNode(org + "member"), m.object, g)]
    copy.extend(extra)

    class Copy:
        def raw_query(self, text: str, **options):
            options.setdefault("use_default_graph_as_union", True)
            return copy.query(text, **options)

    for n in names:
        after = run(Copy(), n)
        numeric = [k for k in (before[n][0] if before[n] else {})
                   if k.lower().endswith(("eur", "count", "grants", "grantswithamount", "contexts", "asmember"))
                   or k in ("registeredUnemployed", "over3YearsPercent", "nationalItemCount", "projectCount")]
        key = next(iter(before[n][0]))
        b = sorted((str(r[key]), tuple(str(r[c]) for c in numeric)) for r in before[n])
        a = sorted((str(r[key]), tuple(str(r[c]) for c in numeric)) for r in after)
        assert a == b, f"{n}: numbers changed by duplicates"


# ------------------------------------------------------------------ LATERAL keeps the answer

def without_lateral(text: str) -> str:
    """The plain SPARQL 1.1 form the header of a query using LATERAL describes: each
    ``LATERAL {`` line and its ``}  # end LATERAL`` line deleted."""
    kept = [ln for ln in text.splitlines()
            if ln.strip() != "LATERAL {" and not ln.strip().startswith("}  # end LATERAL")]
    assert len(kept) < len(text.splitlines()), "no LATERAL block found"
    return "\n".join(kept)


@pytest.mark.parametrize("tasks", [
    "<id/plan/nip-2019-2020/1.3.3>",
    "<id/plan/op-izaugsme-un-nodarbinatiba/8.3.2> <id/plan/op-izaugsme-un-nodarbinatiba/9.2.4>",
    "<id/plan/op-izaugsme-un-nodarbinatiba/9.2.4.1>",
    "<id/plan/nip-2019-2020/1.3.1> <id/plan/nip-2019-2020/1.3.4>",
])
def test_list_responsible_for_task_lateral_equals_plain_form(store, tasks: str) -> None:
    """LATERAL only makes Oxigraph evaluate the branches for the bound ?task (40 ms instead of
    0.8 s at 1M triples); the answer is the plain form's, row for row, for any task."""
    text = text_of("list_responsible_for_task").replace(
        "VALUES ?task { <id/plan/nip-2019-2020/1.3.3> }", f"VALUES ?task {{ {tasks} }}")
    plain_text = without_lateral(text)
    assert not re.search(r"^[^#]*\bLATERAL\b", plain_text, re.M), "a LATERAL is left outside comments"
    fast, plain = run_text(store, text), run_text(store, plain_text)
    assert fast, "no rows"
    assert sorted(map(repr, fast)) == sorted(map(repr, plain))


@pytest.mark.parametrize("path", [p for p in query_files() if "LATERAL {" in p.read_text(encoding="utf-8")],
                         ids=lambda p: p.name)
def test_lateral_queries_answer_as_their_plain_form(store, path: Path) -> None:
    """Every query that uses LATERAL for speed gives the rows of the SPARQL 1.1 form its header
    tells researchers on other endpoints to use, and says so in its header."""
    text = path.read_text(encoding="utf-8")
    assert re.search(r"^# Shape: uses LATERAL\b.*delete", text, re.M), "header does not explain LATERAL"
    fast, plain = run_text(store, text), run_text(store, without_lateral(text))
    assert fast, "no rows"
    assert sorted(map(repr, fast)) == sorted(map(repr, plain))
