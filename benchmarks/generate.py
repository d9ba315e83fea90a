#!/usr/bin/env python3
"""A synthetic graph with the shape of romagraph's, at any size, the same for the same --seed.

It follows the patterns of ``data/README.md`` and is valid against ``shapes/`` (with the
ontology and code lists of ``ontology/``, which it uses but does not repeat): source documents
and sections, citations that every entity and qualified node derives from, countries and
municipalities (place + local government), ministries, agencies, schools, NGOs, people and their
posts, international bodies, legal acts, funding programmes, plans with goal → task trees and
responsible/co-responsible participations, consultative councils with memberships, projects with
implementer/partner participations, grants and reported results, events, and statistics cubes
(dataset, structure, components, observations).

The graph grows in "blocks" (one municipality and what happens there) until the requested number
of triples is reached; partners are drawn with a preference for a few hub organisations, so some
resources collect thousands of incoming links, as a national NGO platform or a ministry does.

    python benchmarks/generate.py --triples 100k --seed 1 --out /tmp/synth-100k.nq
    python benchmarks/generate.py --triples 10k --format ttl --out /tmp/synth-10k.ttl

N-Quads keeps the named graphs (graph/common, graph/iic2014, graph/km2018, as the real data);
Turtle (one file, triples only) can be validated with ``romagraph validate FILE``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.config import CANONICAL_BASE as BASE  # noqa: E402
from server.namespaces import PREFIXES  # noqa: E402

XSD = "http://www.w3.org/2001/XMLSchema#"

NS = PREFIXES  # the project's one prefix table


def term(curie: str) -> str:
    prefix, local = curie.split(":", 1)
    return f"<{NS[prefix]}{local}>"


def iri(rel: str) -> str:
    return f"<{BASE}{rel}>"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


def lv(text: str) -> str:
    return f'"{_escape(text)}"@lv'


def en(text: str) -> str:
    return f'"{_escape(text)}"@en'


def typed(value: object, datatype: str) -> str:
    return f'"{value}"^^<{XSD}{datatype}>'


def string(text: str) -> str:
    return f'"{_escape(text)}"'


def integer(v: int) -> str:
    return typed(v, "integer")


GRAPHS = {name: iri(f"graph/{name}") for name in ("common", "iic2014", "km2018")}

A = term("rdf:type")
LABEL = term("skos:prefLabel")
ALT = term("skos:altLabel")
DESC = term("dct:description")
CITED = term("prov:wasDerivedFrom")

# Words for names: (Latvian, English, slug).
WORDS = [
    ("romu", "Roma", "romu"), ("kopiena", "community", "kopiena"),
    ("jaunatne", "youth", "jaunatne"), ("izglītība", "education", "izglitiba"),
    ("atbalsts", "support", "atbalsts"), ("centrs", "centre", "centrs"),
    ("integrācija", "integration", "integracija"), ("attīstība", "development", "attistiba"),
    ("kultūra", "culture", "kultura"), ("sadarbība", "cooperation", "sadarbiba"),
    ("iespējas", "opportunities", "iespejas"), ("nākotne", "future", "nakotne"),
    ("dialogs", "dialogue", "dialogs"), ("tiesības", "rights", "tiesibas"),
    ("veselība", "health", "veseliba"), ("nodarbinātība", "employment", "nodarbinatiba"),
    ("ģimene", "family", "gimene"), ("bērni", "children", "berni"),
    ("skola", "school", "skola"), ("mediācija", "mediation", "mediacija"),
    ("līdzdalība", "participation", "lidzdaliba"), ("vienlīdzība", "equality", "vienlidziba"),
    ("tradīcijas", "traditions", "tradicijas"), ("valoda", "language", "valoda"),
    ("mūzika", "music", "muzika"), ("sports", "sport", "sports"),
    ("platforma", "platform", "platforma"), ("tīkls", "network", "tikls"),
    ("iekļaušana", "inclusion", "ieklausana"), ("prasmes", "skills", "prasmes"),
]
TOWNS = [
    ("Daugava", "daugava"), ("Gauja", "gauja"), ("Venta", "venta"), ("Lielupe", "lielupe"),
    ("Abava", "abava"), ("Salaca", "salaca"), ("Rēzekne", "rezekne"), ("Aiviekste", "aiviekste"),
    ("Iecava", "iecava"), ("Dubna", "dubna"), ("Ogre", "ogre"), ("Pededze", "pededze"),
]
GIVEN = [("Anna", "anna"), ("Jānis", "janis"), ("Līga", "liga"), ("Māris", "maris"),
         ("Ilze", "ilze"), ("Normunds", "normunds"), ("Sandra", "sandra"), ("Aivars", "aivars"),
         ("Dace", "dace"), ("Ģirts", "girts"), ("Inese", "inese"), ("Kārlis", "karlis")]
FAMILY = [("Bērziņa", "berzina"), ("Kalniņš", "kalnins"), ("Ozola", "ozola"),
          ("Liepiņš", "liepins"), ("Krūmiņa", "krumina"), ("Vītols", "vitols"),
          ("Zariņa", "zarina"), ("Balodis", "balodis"), ("Eglīte", "eglite"),
          ("Siliņš", "silins")]
THEMES = ["education", "employment", "health", "housing", "anti-discrimination",
          "culture-identity", "participation", "coordination", "social-inclusion",
          "human-rights", "international-cooperation"]
EVENT_TYPES = ["seminar", "workshop", "meeting", "conference", "discussion", "training",
               "festival", "exhibition", "concert", "camp"]
UNITS = ["participants", "persons", "children", "pupils", "events", "families", "hours"]
AGE_GROUPS = [("līdz 24 gadiem", "under 24", "under-24"), ("25–54 gadi", "25–54", "25-54"),
              ("55 gadi un vairāk", "55 and over", "55-and-over"), ("kopā", "total", "total")]
SECTIONS = {"synth-a": ["intro", "I", "II-1", "II-2", "III"],
            "synth-b": ["intro", "I", "II", "III", "IV", "V"]}


class Writer:
    """Writes one entity at a time as N-Quads lines or a Turtle block; counts triples."""

    def __init__(self, out: IO[str], fmt: str) -> None:
        self.out = out
        self.fmt = fmt
        self.count = 0
        if fmt == "ttl":
            out.write(f"# Synthetic romagraph-shaped graph (benchmarks/generate.py)\n"
                      f"@base <{BASE}> .\n\n")

    def entity(self, graph: str, s: str, props: Iterable[tuple[str, str]]) -> None:
        props = list(props)
        self.count += len(props)
        if self.fmt == "nq":
            self.out.write("".join(f"{s} {p} {o} {graph} .\n" for p, o in props))
        else:
            body = " ;\n    ".join(f"{p} {o}" for p, o in props)
            self.out.write(f"{s} {body} .\n\n")


class Generator:
    def __init__(self, writer: Writer, seed: int) -> None:
        self.w = writer
        self.rng = random.Random(seed)
        self.names_used: dict[str, int] = {}
        self.ministries: list[str] = []
        self.agencies: list[str] = []
        self.hubs: list[str] = []  # organisations many projects partner with
        self.recent_orgs: list[str] = []  # organisations of the last blocks
        self.programmes: list[str] = []
        self.acts: list[str] = []
        self.tasks: list[str] = []
        self.countries: list[str] = []
        self.sections: list[str] = []
        self.plan: str | None = None
        self.plan_slug = ""
        self.plan_goals = 0
        self.plans = 0
        self.councils = 0

    # -- helpers --------------------------------------------------------------------------------

    def name(self, words: int = 2) -> tuple[str, str, str]:
        """A fresh (lv, en, slug) name made of ``words`` words; slugs never repeat."""
        picked = self.rng.sample(WORDS, words)
        lv_name = " ".join(w[0] for w in picked).capitalize()
        en_name = " ".join(w[1] for w in picked).capitalize()
        slug = "-".join(w[2] for w in picked)
        n = self.names_used.get(slug, 0) + 1
        self.names_used[slug] = n
        return f"{lv_name} {n}", f"{en_name} {n}", f"{slug}-{n}"

    def citation(self, graph: str, key: str) -> str:
        section = self.rng.choice(self.sections)
        c = iri(f"id/citation/{section.removeprefix('id/source/')}/{key}")
        props = [
            (A, term("rg:Citation")),
            (term("oa:hasSource"), iri(section)),
            (term("rg:quote"), lv(f"Sintētisks citāts {key}: „{self.name(4)[0]}”")),
        ]
        if self.rng.random() < 0.3:
            props.append((term("rg:footnote"), integer(self.rng.randint(1, 120))))
        self.w.entity(graph, c, props)
        return c

    def labelled(self, lv_text: str, en_text: str, cite: str) -> list[tuple[str, str]]:
        return [(LABEL, lv(lv_text)), (LABEL, en(en_text)), (CITED, cite)]

    def org(
        self,
        graph: str,
        slug: str,
        kinds: list[str],
        org_type: str,
        lv_name: str,
        en_name: str,
        cite: str,
        extra: Iterable[tuple[str, str]] = (),
    ) -> str:
        s = iri(f"id/org/{slug}")
        self.w.entity(graph, s, [
            (A, term("org:Organization")), *((A, term(k)) for k in kinds),
            (term("org:classification"), iri(f"def/org-type/{org_type}")),
            *self.labelled(lv_name, en_name, cite),
            (DESC, en(f"{en_name}: a synthetic {org_type.replace('-', ' ')}.")),
            *extra,
        ])
        return s

    def participation(
        self, graph: str, context: str, context_slug: str, role: str, agent: str, cite: str
    ) -> None:
        agent_slug = agent.rstrip(">").rsplit("/", 1)[1]
        p = iri(f"id/participation/{context_slug}/{role}/{agent_slug}")
        self.w.entity(graph, context, [(term("cv:hasParticipation"), p)])
        self.w.entity(graph, p, [
            (A, term("cv:Participation")),
            *self.labelled(f"{agent_slug} — {role}", f"{agent_slug} — {role}", cite),
            (term("cv:hasParticipant"), agent),
            (term("cv:role"), iri(f"def/role/{role}")),
        ])

    def partner(self) -> str:
        if self.hubs and self.rng.random() < 0.25:
            return self.rng.choice(self.hubs)
        return self.rng.choice(self.recent_orgs[-60:])

    # -- the frame: what every graph has once ---------------------------------------------------

    def frame(self) -> None:
        g = GRAPHS["common"]
        w = self.w
        for doc, sections in SECTIONS.items():
            d = iri(f"id/source/{doc}")
            first = f"id/source/{doc}/{sections[0]}"
            cite = iri(f"id/citation/{doc}/{sections[0]}/name")
            w.entity(g, d, [
                (A, term("rg:SourceDocument")), (A, term("rg:PolicyDocument")),
                (term("dct:type"), iri("def/doc-type/report")),
                *self.labelled(f"Sintētisks ziņojums {doc}", f"Synthetic report {doc}", cite),
                (DESC, en(f"Synthetic source document {doc} for benchmarks.")),
                (term("dct:issued"), typed(2019, "gYear")),
            ])
            for sec in sections:
                w.entity(g, iri(f"id/source/{doc}/{sec}"), [
                    (A, term("rg:SourceSection")), (term("dct:isPartOf"), d),
                    (term("skos:notation"), string(sec)),
                    (LABEL, lv(f"{doc} {sec} nodaļa")), (LABEL, en(f"{doc} section {sec}")),
                ])
                self.sections.append(f"id/source/{doc}/{sec}")
            w.entity(g, cite, [
                (A, term("rg:Citation")), (term("oa:hasSource"), iri(first)),
                (term("rg:quote"), lv(f"Sintētisks ziņojums {doc}")),
            ])
        cite = self.citation(g, "frame/countries")
        for i, (lv_name, en_name) in enumerate(
            [("Sintētiskā valsts", "Synthetic country"), ("Kaimiņvalsts", "Neighbour country"),
             ("Tālā valsts", "Far country"), ("Jūras valsts", "Sea country")]
        ):
            c = iri(f"id/place/synth-country-{i}")
            w.entity(g, c, [(A, term("dct:Location")), *self.labelled(lv_name, en_name, cite)])
            self.countries.append(c)
        scheme = iri("def/synth-age-group")
        w.entity(g, scheme, [(A, term("skos:ConceptScheme")),
                             (LABEL, lv("Vecuma grupa")), (LABEL, en("Age group"))])
        for lv_name, en_name, code in AGE_GROUPS:
            w.entity(g, iri(f"def/synth-age-group/{code}"), [
                (A, term("skos:Concept")), (term("skos:inScheme"), scheme),
                (term("skos:notation"), string(code)), (LABEL, lv(lv_name)), (LABEL, en(en_name)),
            ])
        cite = self.citation(g, "frame/state")
        cabinet = self.org(g, "synth-ministru-kabinets", ["cv:PublicOrganisation"], "cabinet",
                           "Ministru kabinets (sint.)", "Cabinet of Ministers (synth.)", cite,
                           [(term("dct:spatial"), self.countries[0])])
        for i in range(10):
            lv_name, en_name, slug = self.name(1)
            m = self.org(g, f"{slug}-ministrija", ["cv:PublicOrganisation"], "ministry",
                         f"{lv_name} ministrija", f"Ministry of {en_name}", cite,
                         [(term("dct:spatial"), self.countries[0]),
                          (ALT, lv(f"{slug[:2].upper()}M{i}"))])
            self.ministries.append(m)
        for i in range(15):
            lv_name, en_name, slug = self.name(2)
            a = self.org(g, f"{slug}-agentura", ["cv:PublicOrganisation"], "state-agency",
                         f"{lv_name} aģentūra", f"{en_name} agency", cite,
                         [(term("org:subOrganizationOf"), self.ministries[i % 10]),
                          (term("dct:spatial"), self.countries[0])])
            self.agencies.append(a)
        for i in range(5):
            lv_name, en_name, slug = self.name(2)
            b = self.org(g, f"{slug}-starptautiska", ["rg:InternationalBody"],
                         "international-organisation", f"{lv_name} starptautiskā organizācija",
                         f"{en_name} international body", cite,
                         [(term("dct:spatial"), self.countries[1 + i % 3])])
            self.hubs.append(b)
        for _ in range(4):  # national NGO platforms: the hubs of partnerships
            lv_name, en_name, slug = self.name(2)
            self.hubs.append(self.org(g, f"{slug}-platforma", ["schema:NGO"], "ngo",
                                      f"Biedrība „{lv_name} platforma”", f"{en_name} platform",
                                      cite, [(term("dct:spatial"), self.countries[0])]))
        self.hubs.extend(self.ministries[:3])
        for i in range(8):
            lv_name, en_name, slug = self.name(2)
            act = iri(f"id/doc/{slug}-likums")
            w.entity(g, act, [
                (A, term("eli:LegalResource")), (term("dct:type"), iri("def/doc-type/law")),
                *self.labelled(f"Likums „{lv_name}”", f"Law on {en_name}", cite),
                (DESC, en(f"Synthetic law on {en_name.lower()}.")),
                (term("dct:creator"), cabinet),
                (term("dct:issued"), typed(f"20{10 + i}-0{1 + i}-15", "date")),
                (term("dct:identifier"), string(f"Nr. {100 + i}")),
                (term("eli:id_local"), string(str(280000 + i))),
            ])
            self.acts.append(act)
        for i in range(6):
            lv_name, en_name, slug = self.name(2)
            prog = iri(f"id/programme/{slug}-fonds")
            w.entity(g, prog, [
                (A, term("rg:FundingProgramme")),
                *self.labelled(f"{lv_name} fonds", f"{en_name} fund", cite),
                (DESC, en(f"Synthetic funding programme {en_name.lower()}.")),
            ])
            self.participation(g, prog, f"{slug}-fonds", "managing-authority",
                               self.ministries[i], cite)
            self.programmes.append(prog)
        self.recent_orgs.extend(self.agencies)

    # -- a block: one municipality and what happens there ---------------------------------------

    def block(self, b: int) -> None:
        g_org = GRAPHS["common"]
        g_act = GRAPHS["iic2014"] if b % 4 == 0 else GRAPHS["km2018"]
        rng = self.rng
        town, town_slug = TOWNS[b % len(TOWNS)]
        n = b // len(TOWNS) + 1
        slug = f"{town_slug}-{n}"
        cite_org = self.citation(g_org, f"b{b}/actors")
        cite_act = self.citation(g_act, f"b{b}/activities")
        cite_stat = self.citation(g_act, f"b{b}/statistics")

        place = iri(f"id/place/{slug}")
        self.w.entity(g_org, place, [
            (A, term("dct:Location")),
            *self.labelled(f"{town} {n}", f"{town} {n}", cite_org),
            (term("dct:isPartOf"), self.countries[0]),
        ])
        spatial = (term("dct:spatial"), place)
        gov = self.org(g_org, f"{slug}-pasvaldiba", ["cv:PublicOrganisation"], "local-government",
                       f"{town} {n} pašvaldība", f"{town} {n} municipality", cite_org, [spatial])
        school = self.org(g_org, f"{slug}-skola", ["cv:PublicOrganisation"], "school",
                          f"{town} {n} pamatskola", f"{town} {n} primary school", cite_org,
                          [spatial, (term("org:subOrganizationOf"), gov)])
        ngos = []
        for _ in range(3):
            lv_name, en_name, ngo_slug = self.name(2)
            ngos.append(self.org(g_org, f"{ngo_slug}-{slug}", ["schema:NGO"], "ngo",
                                 f"Biedrība „{lv_name}”", f"Association “{en_name}”", cite_org,
                                 [spatial, (ALT, lv(f"{lv_name} biedrība"))]))
        self.recent_orgs.extend([gov, school, *ngos])
        for i, (employer, role) in enumerate(((ngos[0], "head"), (gov, "roma-mediator"))):
            (given, gs), (family, fs) = rng.choice(GIVEN), rng.choice(FAMILY)
            person_slug = f"{gs}-{fs}-{b}-{i}"
            person = iri(f"id/person/{person_slug}")
            self.w.entity(g_org, person, [
                (A, term("foaf:Person")),
                *self.labelled(f"{given} {family}", f"{given} {family}", cite_org),
                (DESC, en(f"Synthetic person working in {town} {n}.")),
            ])
            employer_slug = employer.rstrip(">").rsplit("/", 1)[1]
            post = iri(f"id/post/{employer_slug}/{role}/{person_slug}")
            props = [
                (A, term("org:Post")),
                *self.labelled(f"Amats: {role}", f"Post: {role}", cite_org),
                (term("org:postIn"), employer), (term("org:role"), iri(f"def/role/{role}")),
                (term("org:heldBy"), person),
                (term("schema:validFrom"), typed(2014 + b % 5, "gYear")),
            ]
            if role == "roma-mediator":
                props.append(spatial)
            self.w.entity(g_org, post, props)

        self._plan_items(b, g_act, cite_act, gov)
        if b % 6 == 0:
            self._council(g_org, cite_org)
        projects = [self._project(b, g_act, cite_act, place, ngos) for _ in range(4)]
        for i in range(3):
            self._event(b, i, g_act, cite_act, place, ngos, projects)
        self._statistics(b, g_act, cite_stat, place)

    def _plan_items(self, b: int, g: str, cite: str, gov: str) -> None:
        if self.plan is None or self.plan_goals >= 8:
            self.plans += 1
            self.plan_slug = f"synth-plan-{self.plans}"
            self.plan = iri(f"id/doc/{self.plan_slug}")
            self.plan_goals = 0
            start = 2010 + self.plans % 12
            self.w.entity(g, self.plan, [
                (A, term("rg:Plan")), (term("dct:type"), iri("def/doc-type/action-plan")),
                *self.labelled(f"Romu integrācijas plāns {self.plans}",
                               f"Roma integration plan {self.plans}", cite),
                (DESC, en(f"Synthetic action plan number {self.plans}.")),
                (term("dct:creator"), self.ministries[self.plans % 10]),
                (term("dct:issued"), typed(start, "gYear")),
                (term("dct:identifier"), string(f"Nr. {self.plans}-{start}")),
                (term("dct:temporal"), string(f"{start}–{start + 2}")),
                (term("rg:approvedBy"), self.rng.choice(self.acts)),
            ])
        self.plan_goals += 1
        goal_no = str(self.plan_goals)
        goal = iri(f"id/plan/{self.plan_slug}/{goal_no}")
        theme = iri(f"def/theme/{self.rng.choice(THEMES)}")
        lv_name, en_name, _ = self.name(2)
        scheme = (term("skos:inScheme"), self.plan)
        self.w.entity(g, goal, [
            (A, term("rg:PlanGoal")), scheme, (term("skos:notation"), string(goal_no)),
            *self.labelled(lv_name, en_name, cite), (term("dct:subject"), theme),
        ])
        for t in range(1, 4):
            notation = f"{goal_no}.{t}"
            task = iri(f"id/plan/{self.plan_slug}/{notation}")
            lv_name, en_name, _ = self.name(3)
            self.w.entity(g, task, [
                (A, term("rg:PlanTask")), scheme, (term("skos:notation"), string(notation)),
                (term("skos:broader"), goal), *self.labelled(lv_name, en_name, cite),
                (term("dct:subject"), theme),
            ])
            context = f"{self.plan_slug}-{notation}"
            self.participation(g, task, context, "responsible",
                               self.rng.choice(self.ministries), cite)
            self.participation(g, task, context, "co-responsible",
                               gov if t == 1 else self.rng.choice(self.agencies), cite)
            self.tasks.append(task)

    def _council(self, g: str, cite: str) -> None:
        self.councils += 1
        lv_name, en_name, slug = self.name(2)
        council_slug = f"{slug}-padome"
        council = self.org(g, council_slug, ["rg:ConsultativeBody"], "consultative-council",
                           f"{lv_name} konsultatīvā padome", f"{en_name} advisory council", cite, [
                               (term("rg:hostInstitution"), self.rng.choice(self.ministries)),
                               (term("org:purpose"), iri(f"def/theme/{self.rng.choice(THEMES)}")),
                               (term("cv:hasFormalFramework"), self.rng.choice(self.acts)),
                           ])
        members = self.rng.sample(self.recent_orgs[-40:], 6) + self.rng.sample(self.ministries, 2)
        for i, member in enumerate(dict.fromkeys(members)):
            member_slug = member.rstrip(">").rsplit("/", 1)[1]
            self.w.entity(g, iri(f"id/membership/{council_slug}/{member_slug}"), [
                (A, term("org:Membership")),
                *self.labelled(f"{member_slug} — padomes locekle",
                               f"{member_slug} — council member", cite),
                (term("org:organization"), council), (term("org:member"), member),
                (term("org:role"), iri("def/role/" + ("chair" if i == 0 else "member"))),
                (term("schema:validFrom"), typed(f"20{12 + self.councils % 8}-08-24", "date")),
            ])
        self.recent_orgs.append(council)

    def _project(self, b: int, g: str, cite: str, place: str, ngos: list[str]) -> str:
        rng = self.rng
        lv_name, en_name, slug = self.name(3)
        project = iri(f"id/project/{slug}")
        start = 2012 + rng.randint(0, 7)
        recent = self.tasks[-30:]
        props = [
            (A, term("schema:Project")),
            *self.labelled(lv_name, en_name, cite),
            (DESC, en(f"Synthetic project “{en_name}”.")),
            (term("dct:identifier"), string(f"{start}/{b}/{rng.randint(1, 999):03d}")),
            (term("schema:startDate"), typed(start, "gYear")),
            (term("schema:endDate"), typed(start + rng.randint(0, 3), "gYear")),
            (term("dct:spatial"), place),
            (term("dct:subject"), iri(f"def/theme/{rng.choice(THEMES)}")),
            (term("rg:targetGroup"), lv("romu bērni un jaunieši")),
            (term("rg:implements"), rng.choice(recent)),
        ]
        grants = []
        for i in range(rng.randint(1, 2)):
            programme = self.programmes[(b + i) % len(self.programmes)]
            grant = iri(f"id/grant/{slug}/{programme.rstrip('>').rsplit('/', 1)[1]}")
            grants.append(grant)
            props.append((term("schema:funding"), grant))
            funding = [(term("rg:fundingProgramme"), programme)]
            if rng.random() < 0.5:
                funding.append((term("schema:funder"), rng.choice(self.ministries)))
            self.w.entity(g, grant, [
                (A, term("schema:MonetaryGrant")),
                *self.labelled(f"Finansējums projektam „{lv_name}”",
                               f"Funding of “{en_name}”", cite),
                (term("schema:fundedItem"), project), *funding,
                (term("schema:amount"), typed(f"{rng.randint(500, 900000)}.00", "decimal")),
                (term("schema:currency"), string("EUR")),
                (term("schema:startDate"), typed(start, "gYear")),
            ])
        results = []
        for i in range(rng.randint(1, 2)):
            unit = rng.choice(UNITS)
            result = iri(f"id/result/{slug}/{unit}-{i}")
            results.append(result)
            props.append((term("rg:hasResult"), result))
            self.w.entity(g, result, [
                (A, term("rg:ReportedResult")),
                *self.labelled(f"Rezultāts: {unit}", f"Result: {unit}", cite),
                (term("rg:value"), integer(rng.randint(1, 400))),
                (term("rg:unit"), iri(f"def/unit/{unit}")),
            ])
        self.w.entity(g, project, props)
        self.participation(g, project, slug, "implementer", rng.choice(ngos), cite)
        for partner in dict.fromkeys([self.partner(), self.partner()]):
            self.participation(g, project, slug, "partner", partner, cite)
        return project

    def _event(
        self, b: int, i: int, g: str, cite: str, place: str, ngos: list[str], projects: list[str]
    ) -> None:
        rng = self.rng
        lv_name, en_name, slug = self.name(2)
        day = f"{2012 + rng.randint(0, 7)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        event = iri(f"id/event/{day}-{slug}")
        props = [
            (A, term("schema:Event")),
            (term("dct:type"), iri(f"def/event-type/{rng.choice(EVENT_TYPES)}")),
            *self.labelled(f"Pasākums „{lv_name}”", f"Event “{en_name}”", cite),
            (DESC, en(f"Synthetic event “{en_name}”.")),
            (term("schema:startDate"), typed(day, "date")),
            (term("dct:spatial"), place),
            (term("rg:participantCount"), integer(rng.randint(5, 300))),
        ]
        if rng.random() < 0.5:
            props.append((term("schema:superEvent"), rng.choice(projects)))
        self.w.entity(g, event, props)
        self.participation(g, event, f"{day}-{slug}", "organiser", ngos[i % len(ngos)], cite)

    def _statistics(self, b: int, g: str, cite: str, place: str) -> None:
        lv_name, en_name, slug = self.name(2)
        ds = f"data/synth-{slug}"
        structure = iri(f"{ds}/structure")
        self.w.entity(g, iri(ds), [
            (A, term("qb:DataSet")),
            *self.labelled(f"Statistika: {lv_name}", f"Statistics: {en_name}", cite),
            (DESC, en(f"Synthetic statistics on {en_name.lower()}.")),
            (term("dct:publisher"), self.rng.choice(self.agencies)),
            (term("qb:structure"), structure),
        ])
        components = [("ref-period", "qb:dimension", "sdmx-dimension:refPeriod"),
                      ("ref-area", "qb:dimension", "sdmx-dimension:refArea"),
                      ("breakdown", "qb:dimension", "rg:breakdown"),
                      ("obs-value", "qb:measure", "sdmx-measure:obsValue"),
                      ("unit", "qb:attribute", "rg:unit")]
        self.w.entity(g, structure, [
            (A, term("qb:DataStructureDefinition")),
            (LABEL, lv(f"Datu struktūra: {lv_name}")), (LABEL, en(f"Structure of: {en_name}")),
            *((term("qb:component"), iri(f"{ds}/structure/{c}")) for c, _, _ in components),
        ])
        for order, (c, kind, prop) in enumerate(components, 1):
            self.w.entity(g, iri(f"{ds}/structure/{c}"), [
                (A, term("qb:ComponentSpecification")), (term(kind), term(prop)),
                (term("qb:order"), integer(order)),
            ])
        for year in range(2015, 2019):
            for _, _, code in AGE_GROUPS[:3]:
                self.w.entity(g, iri(f"{ds}/{year}/{code}"), [
                    (A, term("qb:Observation")), (term("qb:dataSet"), iri(ds)),
                    (term("sdmx-dimension:refPeriod"), typed(year, "gYear")),
                    (term("sdmx-dimension:refArea"), place),
                    (term("rg:breakdown"), iri(f"def/synth-age-group/{code}")),
                    (term("sdmx-measure:obsValue"), integer(self.rng.randint(0, 900))),
                    (term("rg:unit"), iri("def/unit/persons")),
                    (CITED, cite),
                ])


def generate(triples: int, seed: int, out: IO[str], fmt: str = "nq") -> int:
    """Write a graph of at least ``triples`` triples (whole blocks) to ``out``; return the count."""
    if fmt not in ("nq", "ttl"):
        raise ValueError("format must be nq or ttl")
    writer = Writer(out, fmt)
    gen = Generator(writer, seed)
    gen.frame()
    b = 0
    while writer.count < triples:
        gen.block(b)
        b += 1
    return writer.count


def parse_size(text: str) -> int:
    """``10k``, ``1M``, ``2.5m``, ``10000`` → a number of triples."""
    t = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    return int(float(t[:-1] if factor > 1 else t) * factor)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--triples", type=parse_size, default=parse_size("100k"),
                    help="approximate size: 10k, 100k, 1M, 10M (whole blocks, so a little more)")
    ap.add_argument("--seed", type=int, default=1, help="same seed, same graph")
    ap.add_argument("--format", choices=("nq", "ttl"), default=None,
                    help="N-Quads (named graphs) or Turtle; default: from --out's extension")
    ap.add_argument("--out", type=Path, default=None, help="file to write (default: stdout)")
    args = ap.parse_args(argv)
    fmt = args.format or (args.out.suffix.lstrip(".") if args.out else "nq")
    fmt = "ttl" if fmt == "ttl" else "nq"
    started = time.perf_counter()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", encoding="utf-8", buffering=1 << 20) as f:
            n = generate(args.triples, args.seed, f, fmt)
    else:
        n = generate(args.triples, args.seed, sys.stdout, fmt)
    print(f"{n} triples ({fmt}, seed {args.seed}) in {time.perf_counter() - started:.1f} s"
          + (f" -> {args.out}" if args.out else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
