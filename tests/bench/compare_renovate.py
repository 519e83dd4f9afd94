#!/usr/bin/env python3
"""Compare `pinbot scan` with Renovate's docker extraction on the same corpus, in the same run.

    python3 tests/bench/compare_renovate.py [--corpus DIR] [--renovate-mode single|per-repo]
        [--renovate-json FILE] [--pinbot-json FILE] [--out DIR] [--bench-runs N]

1. Runs Renovate's extraction over the corpus (the peer script
   `../shared/peers/renovate/extract.sh --corpus-single`, or `--corpus` with
   `--renovate-mode per-repo`) and `pinbot scan CORPUS --format json`, one after the other,
   each timed as tests/bench/bench_scan.py times them (wall, CPU, peak RSS of the process
   tree; one run each: bench_scan.py repeats them and takes medians). `--renovate-json` /
   `--pinbot-json` reuse an earlier output instead (that side is then not timed).
2. Optionally times `pinbot scan` in-process (bench_scan.py's `bench`, `--bench-runs`).
3. Matches the two lists per file, in passes (each item is used once):
     exact      same line, same image (both normalised: docker.io/library/, tag, digest)
     same-name  same line, same repository, different tag/digest (ARG defaults, Helm maps)
     moved      same image elsewhere in the file (Renovate derives lines by searching text)
     same-line  same line, anything (a templated reference on one side, a skipped one on
                the other)
4. Prints totals and counts per pinbot kind for both sides (Renovate managers mapped to
   pinbot kinds), the matched count per pass, and the items found by one side only grouped
   by category, each category with its verdict (see RENOVATE_COMPARISON.md for the reasons).
   `--out DIR` writes pinbot.json, renovate.json, matched.json, only_pinbot.json,
   only_renovate.json and summary.json there.

The corpus defaults to $PINBOT_CORPUS, else ../shared/corpus relative to the repository;
the Renovate peer scripts to $RENOVATE_PEER_DIR, else ../shared/peers/renovate.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scan import (  # noqa: E402
    Pinbot,
    Renovate,
    Run,
    default_corpus,
    default_peer_dir,
    format_bench,
)
from bench_scan import bench as run_bench  # noqa: E402

from pinbot.reference import InvalidReference, parse_normalized  # noqa: E402

# Renovate manager -> pinbot kind. Tekton and Crossplane files are Kubernetes objects to pinbot.
MANAGER_KIND = {
    "dockerfile": "dockerfile",
    "docker-compose": "compose",
    "kubernetes": "kubernetes",
    "tekton": "kubernetes",
    "crossplane": "kubernetes",
    "helm-values": "helm",
    "kustomize": "kustomize",
    "github-actions": "github-actions",
    "gitlabci": "gitlab-ci",
    "circleci": "circleci",
    "bitbucket-pipelines": "bitbucket-pipelines",
    "droneci": "drone",
    "cloudbuild": "cloudbuild",
    "devcontainer": "devcontainer",
}
# pinbot kinds for which Renovate 39 has no manager at all.
NO_RENOVATE_MANAGER = frozenset({"bake", "gitpod", "skaffold"})

Row = dict[str, Any]


# --------------------------------------------------------------------------- running


def run_renovate(corpus: Path, mode: str, peer_dir: Path, work: Path) -> tuple[list[Row], Run]:
    flag = "--corpus-single" if mode == "single" else "--corpus"
    renovate = Renovate(work, peer_dir, flag)
    timing = renovate.run(corpus)
    return json.loads((work / "renovate.json").read_text()), timing


def run_pinbot(corpus: Path, work: Path) -> tuple[list[Row], Run, list[str]]:
    pinbot = Pinbot(work)
    pinbot.run(corpus)  # compiles the bytecode, as installing pinbot does; not timed
    timing = pinbot.run(corpus)
    err = (work / "pinbot.stderr").read_text(errors="replace")
    warnings = [ln for ln in err.splitlines() if ln.startswith("warning:")]
    return json.loads((work / "pinbot.json").read_text()), timing, warnings


# --------------------------------------------------------------------------- normalising


def _strip_quotes(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return text


def norm_ref(text: str | None) -> tuple[str | None, str | None]:
    """(normalised reference, repository) of an image reference as written, or raw text."""
    if not text:
        return None, None
    text = _strip_quotes(text)
    for prefix in ("docker://", "docker-image://"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    try:
        ref = parse_normalized(text)
    except (InvalidReference, ValueError):
        name = re.split(r"[:@]", text, maxsplit=1)[0] if "/" in text or ":" in text else text
        return text, name
    return str(ref), ref.name


def renovate_written(row: Row) -> str:
    """The reference Renovate extracted, composed from depName, currentValue and currentDigest."""
    name = row.get("depName")
    if not name:
        return _strip_quotes(row.get("replaceString") or "")
    text = name
    if row.get("currentValue"):
        text += ":" + row["currentValue"]
    if row.get("currentDigest"):
        text += "@" + row["currentDigest"]
    return text


@dataclass
class Item:
    side: str  # "pinbot" | "renovate"
    file: str
    line: int | None
    kind: str
    ref: str | None
    name: str | None
    row: Row
    resolved: str | None = None  # pinbot: the reference its Dockerfile ARG defaults give
    match: str | None = None
    partner: Item | None = None

    def brief(self) -> str:
        if self.side == "pinbot":
            what = f"{self.row['text']!r} [{self.row['status']}] {self.row['context']}"
        else:
            r = self.row
            what = f"{renovate_written(r)!r} [{r['manager']}{'/' + r['skipReason'] if r.get('skipReason') else ''}]"
        return f"{self.file}:{self.line} {what}"


_ARG_DEFAULTS = re.compile(r"ARG defaults give (\S+)")


def pinbot_items(rows: Iterable[Row]) -> list[Item]:
    items = []
    for r in rows:
        ref, name = norm_ref(r["reference"] or r["text"])
        resolved = None
        found = _ARG_DEFAULTS.search(r.get("note") or "")
        if found:
            resolved, _ = norm_ref(found.group(1))
        items.append(Item("pinbot", r["file"], r["line"], r["kind"], ref, name, r, resolved))
    return items


def renovate_items(rows: Iterable[Row]) -> list[Item]:
    items = []
    for r in rows:
        ref, name = norm_ref(renovate_written(r))
        kind = MANAGER_KIND.get(r["manager"], r["manager"])
        items.append(Item("renovate", r["file"], r["line"], kind, ref, name, r))
    return items


# --------------------------------------------------------------------------- matching

PASSES: tuple[tuple[str, Callable[[Item, Item], bool], bool], ...] = (
    # (name, predicate, same line required)
    ("exact", lambda p, r: r.ref in (p.ref, p.resolved), True),
    ("same-name", lambda p, r: p.name == r.name, True),
    # Renovate substitutes Dockerfile ARG defaults and points at the ARG line; pinbot reports
    # the FROM line as templated and names what the defaults give.
    ("arg-default", lambda p, r: p.resolved is not None and p.resolved == r.ref, False),
    ("moved", lambda p, r: p.ref == r.ref, False),
    ("same-line", lambda p, r: True, True),
)


def match(pinbot: list[Item], renovate: list[Item]) -> list[tuple[Item, Item]]:
    by_file: dict[str, tuple[list[Item], list[Item]]] = defaultdict(lambda: ([], []))
    for p in pinbot:
        by_file[p.file][0].append(p)
    for r in renovate:
        by_file[r.file][1].append(r)
    pairs: list[tuple[Item, Item]] = []
    for ps, rs in by_file.values():
        for name, predicate, same_line in PASSES:
            for r in rs:
                if r.partner is not None:
                    continue
                candidates = [
                    p
                    for p in ps
                    if p.partner is None and (not same_line or p.line == r.line) and predicate(p, r)
                ]
                if not candidates:
                    continue
                best = min(
                    candidates, key=lambda p: (abs((p.line or 0) - (r.line or 0)), p.line or 0)
                )
                best.partner, r.partner = r, best
                best.match = r.match = name
                pairs.append((best, r))
    return pairs


# --------------------------------------------------------------------------- categories

# A category: (name, predicate, verdict). First match wins. The verdicts were reached by
# reading the corpus files; RENOVATE_COMPARISON.md gives the reasons and examples.
Rule = tuple[str, Callable[[Item], bool], str]


def _ctx(i: Item) -> str:
    return str(i.row.get("context") or "")


_LINES: dict[str, list[str]] = {}
CORPUS: Path = Path()


def line_text(i: Item, offset: int = 0) -> str:
    """The corpus line an item points at (offset lines below it)."""
    if i.file not in _LINES:
        try:
            _LINES[i.file] = (
                (CORPUS / i.file).read_text(encoding="utf-8", errors="replace").splitlines()
            )
        except OSError:
            _LINES[i.file] = []
    lines, n = _LINES[i.file], (i.line or 0) + offset
    return lines[n - 1] if 0 < n <= len(lines) else ""


def _file_has(i: Item, pattern: str) -> bool:
    if i.file not in _LINES:
        line_text(i)
    return re.search(pattern, "\n".join(_LINES[i.file]), re.M) is not None


PINBOT_ONLY_RULES: list[Rule] = [
    (
        "no Renovate manager for this file kind (Docker Bake, Gitpod)",
        lambda i: i.kind in NO_RENOVATE_MANAGER,
        "pinbot right",
    ),
    (
        "GitHub Actions `uses: docker://` step",
        lambda i: i.kind == "github-actions" and i.row["text"].startswith("docker://"),
        "pinbot right",
    ),
    (
        "GitHub Actions action input naming an image (setup-qemu `image`, buildx `driver-opts`)",
        lambda i: i.kind == "github-actions" and ".with." in _ctx(i),
        "pinbot right",
    ),
    (
        "Helm Chart.yaml `artifacthub.io/images` annotation",
        lambda i: i.kind == "helm" and _ctx(i).startswith("annotations.images"),
        "pinbot right",
    ),
    (
        "devcontainer.json below the repository root (Renovate anchors its pattern at the root)",
        lambda i: i.kind == "devcontainer" and i.file.count("/") > 2,
        "pinbot right",
    ),
    (
        "devcontainer.json at the root: untagged image or `features` (Renovate drops untagged, "
        "reads features only when tagged)",
        lambda i: i.kind == "devcontainer",
        "pinbot right",
    ),
    (
        "GitLab CI variable defined in one file, used as a job image in an included one",
        lambda i: i.kind == "gitlab-ci" and "(image of " in _ctx(i),
        "pinbot right (Renovate skips the use as contains-variable)",
    ),
    (
        "GitLab CI template without a `.gitlab-ci.yml` name (hidden jobs / included files)",
        lambda i: (
            i.kind == "gitlab-ci"
            and not re.search(r"(^|/)(\.gitlab-ci|[^/]*\.gitlab-ci)\.ya?ml$", i.file)
        ),
        "pinbot right",
    ),
    (
        "Tekton parameter default that is a step's image",
        lambda i: i.kind == "kubernetes" and "spec.params" in _ctx(i) and "(image of" in _ctx(i),
        "pinbot right",
    ),
    (
        "YAML block/folded scalar image (`image: >-` + next line)",
        lambda i: i.row["text"][:1] in (">", "|", "") and "block" in (i.row.get("note") or ""),
        "pinbot right (reported, not rewritable)",
    ),
    (
        "Kustomize `images[].name` alone (tagSuffix only): listed, not rewritable",
        lambda i: i.kind == "kustomize" and _ctx(i).endswith(".name"),
        "agree (neither pins)",
    ),
    (
        "Compose service with `build:` and a literal image (image names the build output)",
        lambda i: (
            i.kind == "compose"
            and i.row["status"] != "templated"
            and _ctx(i).startswith("services.")
            and _compose_has_build(i)
            and i.row.get("rewritable")
        ),
        "Renovate right: pinbot bug",
    ),
    (
        "Compose service with `build:` and a literal image: the build output, reported not rewritable",
        lambda i: (
            i.kind == "compose"
            and i.row["status"] != "templated"
            and _ctx(i).startswith("services.")
            and _compose_has_build(i)
        ),
        "agree (neither pins); pinbot lists it with a note",
    ),
    (
        "Compose extension field (`x-…`) image, used through a YAML anchor",
        lambda i: i.kind == "compose" and _ctx(i).startswith("x-"),
        "pinbot right",
    ),
    (
        "Bitbucket step image followed by a `# comment`",
        lambda i: i.kind == "bitbucket-pipelines" and "#" in line_text(i),
        "pinbot right",
    ),
    ("Kustomize JSON patch `value.image`", lambda i: "].value." in _ctx(i), "pinbot right"),
    (
        "templated reference Renovate does not list (Helm templates, Argo `{{inputs…}}`, "
        "Compose `${VAR}` images of built services, workflow expressions)",
        lambda i: i.row["status"] == "templated",
        "agree (neither pins); pinbot lists it",
    ),
    (
        "placeholder that is not a reference (status invalid)",
        lambda i: i.row["status"] == "invalid",
        "agree (neither pins); pinbot lists it",
    ),
]


def _compose_has_build(i: Item) -> bool:
    """Whether the Compose service the item belongs to has a `build` key (a cheap look)."""
    service = _ctx(i).split(".")[1]
    lines = _LINES.get(i.file) or (line_text(i) and _LINES[i.file])
    start = next(
        (n for n, ln in enumerate(lines) if re.match(rf"\s+{re.escape(service)}:\s*$", ln)), None
    )
    if start is None:
        return False
    indent = len(lines[start]) - len(lines[start].lstrip())
    for ln in lines[start + 1 :]:
        if ln.strip() and len(ln) - len(ln.lstrip()) <= indent:
            break
        if re.match(r"\s+build\s*:", ln):
            return True
    return False


def _renovate_dup(i: Item) -> bool:
    return i.row.get("_dup", False)


RENOVATE_ONLY_RULES: list[Rule] = [
    (
        "same site listed twice by Renovate (kubernetes and tekton managers both read Tekton files)",
        _renovate_dup,
        "Renovate double count",
    ),
    (
        "Kubernetes object status (`status.containerStatuses[].image`), not a spec",
        lambda i: (
            i.kind == "kubernetes"
            and _file_has(i, r"^\s+containerStatuses:")
            and re.search(r"^\s+-?\s*image:", line_text(i)) is not None
            and _under(i, "containerStatuses")
        ),
        "pinbot right",
    ),
    (
        "Skaffold `build.artifacts[].image` (name of an image to build)",
        lambda i: i.row["manager"] == "kubernetes" and _file_has(i, r"^apiVersion: skaffold/"),
        "pinbot right",
    ),
    (
        "RBD volume `image:` (a Ceph block device, not a container image)",
        lambda i: i.kind == "kubernetes" and _under(i, "rbd"),
        "pinbot right",
    ),
    (
        "Renovate kubernetes manager cuts a `$(params.…)` tag off (tekton manager skips the same line)",
        lambda i: i.row["manager"] == "kubernetes" and "$(" in line_text(i),
        "Renovate wrong",
    ),
    (
        "skipped by Renovate as contains-variable, not listed by pinbot",
        lambda i: i.row.get("skipReason") == "contains-variable",
        "?",
    ),
]


def _under(i: Item, key: str) -> bool:
    """Whether the item's line sits under a `key:` mapping (looking up by indentation)."""
    here = line_text(i)
    indent = len(here) - len(here.lstrip(" -"))
    for back in range(1, (i.line or 1)):
        ln = line_text(i, -back)
        if not ln.strip() or ln.lstrip().startswith("#"):
            continue
        ind = len(ln) - len(ln.lstrip(" -"))
        if ind < indent:
            if re.match(rf"\s*-?\s*{re.escape(key)}:", ln):
                return True
            indent = ind
            if ind == 0:
                break
    return False


def mark_renovate_duplicates(renovate: list[Item]) -> None:
    """Flag unmatched Renovate items that repeat another Renovate item's site and image."""
    seen: dict[tuple[str, int | None, str | None], Item] = {}
    for i in sorted(renovate, key=lambda i: i.partner is None):
        key = (i.file, i.line, i.ref)
        if key in seen and i.partner is None:
            i.row["_dup"] = True
        seen.setdefault(key, i)


def categorize_pair(p: Item, r: Item) -> tuple[str, str] | None:
    """Why a matched pair still differs, or None when both sides say the same thing."""
    if p.resolved and r.ref == p.resolved:
        if p.row["status"] != "templated" and p.row.get("rewritable"):
            return (
                "Dockerfile FROM through ARG defaults: both pin by writing into the ARG default",
                "agree",
            )
        return (
            "Dockerfile FROM through ARG defaults: Renovate substitutes them and edits the ARG "
            "line, pinbot lists the FROM as templated with what the defaults give",
            "split: see RENOVATE_COMPARISON.md",
        )
    if p.match == "exact":
        if p.row["status"] == "templated" and not r.row.get("skipReason"):
            return "Renovate names a concrete image on a templated line", "?"
        return None
    if p.match == "moved":
        if r.row["manager"] == "helm-values":
            return (
                "Helm values image map: pinbot at `repository`, Renovate's line derived from the "
                "tag",
                "agree (line convention)",
            )
        return (
            "same image, Renovate's derived line is an earlier text hit of a short name",
            "agree (line search artefact)",
        )
    if p.row["status"] == "templated":
        return "template line: Renovate reads a partial image (`alpine:{{`)", "pinbot right"
    if p.row["status"] == "invalid":
        return "placeholder: Renovate reads a partial image (`gcr.io`)", "pinbot right"
    if p.match == "same-name" and p.ref and r.ref and p.ref.startswith(r.ref):
        return (
            "tag with `_`: Renovate's kubernetes regex cuts it (`spark:1.5.2_v1` -> 1.5.2)",
            "pinbot right",
        )
    return f"other {p.match}", "?"


def categorize(item: Item, rules: list[Rule]) -> tuple[str, str]:
    for name, predicate, verdict in rules:
        if predicate(item):
            return name, verdict
    if item.side == "pinbot":
        shape = re.sub(r"\[\d+\]", "[]", _ctx(item))
        shape = re.sub(r"\(stage [^)]*\)", "(stage)", shape)
        return f"other: pinbot {item.kind} {item.row['status']} {shape}", "?"
    return f"other: renovate {item.row['manager']} {item.row.get('depType') or ''}".rstrip(), "?"


# --------------------------------------------------------------------------- report


def describe_run(run: Run) -> str:
    return (
        f"wall {run.wall_s:.2f} s, CPU {run.cpu_s:.2f} s, peak RSS {run.tree_rss_mb:.0f} MB "
        f"(all processes; largest {run.process_rss_mb:.0f} MB)"
    )


def report(
    pinbot: list[Item],
    renovate: list[Item],
    pairs: list[tuple[Item, Item]],
    timings: dict[str, Run | None],
    bench: dict[str, Any] | None,
    examples: int,
) -> dict[str, Any]:
    kinds = sorted({i.kind for i in pinbot} | {i.kind for i in renovate})
    pk, rk = Counter(i.kind for i in pinbot), Counter(i.kind for i in renovate)
    managers = Counter(i.row["manager"] for i in renovate)
    statuses = Counter(i.row["status"] for i in pinbot)
    matched_by_pass = Counter(p.match for p, _ in pairs)
    print("== Totals")
    print(
        f"pinbot:   {len(pinbot)} references in {len({i.file for i in pinbot})} files; "
        + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
    )
    skips = Counter(i.row.get("skipReason") for i in renovate if i.row.get("skipReason"))
    print(
        f"renovate: {len(renovate)} image deps in {len({i.file for i in renovate})} files; "
        f"{sum(1 for i in renovate if i.row.get('currentDigest'))} with digest; skipped "
        + (", ".join(f"{n} {s}" for s, n in sorted(skips.items())) or "none")
        + f"; {sum(1 for i in renovate if not i.line)} without a line"
    )
    print("renovate per manager: " + ", ".join(f"{m} {n}" for m, n in managers.most_common()))
    print("\n== Per kind (Renovate managers mapped to pinbot kinds)")
    mk = Counter(p.kind for p, _ in pairs)  # by pinbot's kind
    print(f"{'kind':22} {'pinbot':>7} {'renovate':>9} {'matched':>8}")
    for k in kinds:
        print(f"{k:22} {pk[k]:>7} {rk[k]:>9} {mk[k]:>8}")
    print(f"{'total':22} {len(pinbot):>7} {len(renovate):>9} {len(pairs):>8}")
    print(
        "\n== Matched: "
        + f"{len(pairs)} ("
        + ", ".join(f"{matched_by_pass[name]} {name}" for name, _, _ in PASSES)
        + ")"
    )
    differing: dict[tuple[str, str], list[tuple[Item, Item]]] = defaultdict(list)
    for p, r in pairs:
        why = categorize_pair(p, r)
        if why:
            differing[why].append((p, r))
    print(f"matched but differing: {sum(len(v) for v in differing.values())}")
    summary_matched: dict[str, Any] = {}
    for (name, verdict), members in sorted(differing.items(), key=lambda kv: -len(kv[1])):
        print(f"[{len(members):4}] {name}  -> {verdict}")
        for p, r in members[:examples]:
            print(f"         pinbot {p.brief()}")
            print(f"         renovate {r.brief()}")
        summary_matched[name] = {
            "count": len(members),
            "verdict": verdict,
            "examples": [[p.brief(), r.brief()] for p, r in members[:examples]],
        }

    summary: dict[str, Any] = {
        "pinbot": {
            "total": len(pinbot),
            "per_kind": dict(sorted(pk.items())),
            "per_status": dict(statuses),
        },
        "renovate": {
            "total": len(renovate),
            "per_kind": dict(sorted(rk.items())),
            "per_manager": dict(managers),
            "skipped": dict(skips),
        },
        "matched": {
            "total": len(pairs),
            "per_pass": dict(matched_by_pass),
            "per_kind": dict(mk),
            "differing": summary_matched,
        },
        "timings": {k: (asdict(t) if t else None) for k, t in timings.items()},
        "bench": bench,
        "only_pinbot": {},
        "only_renovate": {},
    }
    for side, items, rules in (
        ("pinbot", pinbot, PINBOT_ONLY_RULES),
        ("renovate", renovate, RENOVATE_ONLY_RULES),
    ):
        alone = [i for i in items if i.partner is None]
        groups: dict[tuple[str, str], list[Item]] = defaultdict(list)
        for i in alone:
            groups[categorize(i, rules)].append(i)
        print(f"\n== Only {side}: {len(alone)}")
        for (name, verdict), members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            print(f"[{len(members):4}] {name}  -> {verdict}")
            for i in members[:examples]:
                print(f"         {i.brief()}")
            summary[f"only_{side}"][name] = {
                "count": len(members),
                "verdict": verdict,
                "examples": [i.brief() for i in members[:examples]],
            }

    print("\n== Timing (one run each, one after the other; bench_scan.py repeats them)")
    rt, pt = timings.get("renovate"), timings.get("pinbot")
    if rt:
        own = f" (Renovate process alone {rt.own_wall_s:.2f} s wall)" if rt.own_wall_s else ""
        print(f"renovate extraction: {describe_run(rt)}{own}")
    if pt:
        print(f"pinbot scan (CLI):   {describe_run(pt)}")
    if rt and pt:
        renovate_wall = rt.own_wall_s or rt.wall_s
        print(
            f"ratio renovate/pinbot wall: {renovate_wall / pt.wall_s:.1f}x; "
            f"peak RSS {rt.tree_rss_mb / pt.tree_rss_mb:.1f}x"
        )
    if bench:
        print(format_bench(bench))
        if rt:
            print(
                "ratio renovate wall / pinbot in-process median: "
                f"{(rt.own_wall_s or rt.wall_s) / bench['wall_s_median']:.1f}x"
            )
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpus", type=Path, default=default_corpus())
    ap.add_argument(
        "--renovate-mode",
        choices=("single", "per-repo"),
        default="single",
        help="extract.sh --corpus-single (one Renovate run, default) or --corpus "
        "(one run per repository folder)",
    )
    ap.add_argument("--renovate-json", type=Path, help="reuse this extract.sh output (not timed)")
    ap.add_argument(
        "--pinbot-json", type=Path, help="reuse this `pinbot scan --format json` output (not timed)"
    )
    ap.add_argument(
        "--peer-dir", type=Path, default=default_peer_dir(), help="Renovate peer scripts"
    )
    ap.add_argument("--out", type=Path, help="write the JSON lists and summary here")
    ap.add_argument(
        "--bench-runs",
        type=int,
        default=5,
        help="also time pinbot in-process this many times (0: skip)",
    )
    ap.add_argument("--examples", type=int, default=3, help="examples printed per category")
    a = ap.parse_args(argv)
    corpus = a.corpus.resolve()
    if not corpus.is_dir():
        print(
            f"compare_renovate: corpus {corpus} not found (--corpus or PINBOT_CORPUS)",
            file=sys.stderr,
        )
        return 2
    work = Path(tempfile.mkdtemp(prefix="pinbot-vs-renovate."))
    timings: dict[str, Run | None] = {"renovate": None, "pinbot": None}
    try:
        if a.renovate_json:
            renovate_rows = json.loads(a.renovate_json.read_text())
        else:
            print(
                f"running Renovate extraction ({a.renovate_mode}) on {corpus} ...", file=sys.stderr
            )
            renovate_rows, timings["renovate"] = run_renovate(
                corpus, a.renovate_mode, a.peer_dir, work
            )
        if a.pinbot_json:
            pinbot_rows = json.loads(a.pinbot_json.read_text())
        else:
            print(f"running pinbot scan on {corpus} ...", file=sys.stderr)
            pinbot_rows, timings["pinbot"], warnings = run_pinbot(corpus, work)
            for warning in warnings:
                print(f"pinbot {warning}", file=sys.stderr)
        bench = None
        if a.bench_runs > 0:
            print(f"timing pinbot in-process ({a.bench_runs} runs) ...", file=sys.stderr)
            bench = run_bench(corpus, a.bench_runs, None)
        pinbot, renovate = pinbot_items(pinbot_rows), renovate_items(renovate_rows)
        global CORPUS
        CORPUS = corpus
        pairs = match(pinbot, renovate)
        mark_renovate_duplicates(renovate)
        summary = report(pinbot, renovate, pairs, timings, bench, a.examples)
        summary["corpus"] = str(corpus)
        summary["renovate_mode"] = a.renovate_mode
        if a.out:
            a.out.mkdir(parents=True, exist_ok=True)

            def dump(name: str, data: Any) -> None:
                (a.out / name).write_text(json.dumps(data, indent=1) + "\n")

            dump("pinbot.json", pinbot_rows)
            dump("renovate.json", renovate_rows)
            dump(
                "matched.json",
                [{"pass": p.match, "pinbot": p.row, "renovate": r.row} for p, r in pairs],
            )
            for side, items, rules in (
                ("pinbot", pinbot, PINBOT_ONLY_RULES),
                ("renovate", renovate, RENOVATE_ONLY_RULES),
            ):
                dump(
                    f"only_{side}.json",
                    [
                        {"category": c, "verdict": v, **i.row}
                        for i in items
                        if i.partner is None
                        for c, v in [categorize(i, rules)]
                    ],
                )
            dump("summary.json", summary)
            print(f"\nJSON lists written to {a.out}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
