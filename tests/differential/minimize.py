"""Cut a differential-test report down to the few lines that still differ.

Usage, from the repository root::

    python -m tests.differential.minimize REPORT [OUT.py] [--url URL]

``REPORT`` is a difference report: a file written by
``SESSION_EXT_DIFFERENTIAL_REPORTS=<dir>`` or the pytest failure output (its
``E   `` prefixes are stripped).  The program in it is run as a script, once with
``LIBRARY = "sqlalchemy"`` and once with ``LIBRARY = "session_ext"``, each in a
new interpreter; a candidate is kept when both run to the end and what the
final prints (one per ``# DIFFERENCE`` line the report ends with) write differs.  Steps
are removed in ever smaller blocks (delta debugging: halves, quarters, ... single
steps; a ``try:``/``except`` block counts as one step) until no single step can
go.  The final prints are always kept.  A 40-80 step report usually ends at
3-10 steps within a minute, quicker and smaller than Hypothesis's shrinking
(``SESSION_EXT_DIFFERENTIAL_SHRINK=0`` turns that off for a survey).

``--url`` replaces the database URL of the script (PostgreSQL reports name the
test suite's private server, gone once the run is over).  The result is
printed and written to ``OUT.py`` (default: ``REPORT`` with ``.min.py``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADER_START = "# A differential-test program"
LIBRARY_LINE = 'LIBRARY = "session_ext"'
Block = list[str]


def split_report(text: str) -> tuple[list[str], list[Block], list[Block]]:
    """(header lines, step blocks, final print blocks) of the report's program."""
    lines = [re.sub(r"^E {3}( {8})?", "", line) for line in text[text.index(HEADER_START):]
             .splitlines()]
    end_header = next(i for i, line in enumerate(lines) if line.startswith("session = Session("))
    header, body = lines[:end_header + 1], lines[end_header + 1:]
    body = [line for line in body if line.strip() and not line.startswith("Failing test case")]
    last = max(i for i, line in enumerate(body) if line.lstrip().startswith("print("))
    blocks: list[Block] = []
    for line in body[:last + 1]:
        if blocks and line.startswith((" ", "except")):
            blocks[-1].append(line)  # the body of a try: block or its handler
        else:
            blocks.append([line])
    tail: list[Block] = []
    while blocks and blocks[-1][0].startswith(("print(", "#")):
        tail.insert(0, blocks.pop())
    return header, blocks, tail


def normalized(output: str) -> str:
    output = re.sub(r"0x[0-9a-f]+", "0x", output)
    output = re.sub(r"<sqlalchemy\.orm\.session\.Session [^>]*>|<session_ext\.Session [^>]*>",
                    "<Session>", output)
    return re.sub(r"(\w+(Error|Warning))\(.*", r"\1", output)


class Runner:
    def __init__(self, header: list[str], tail: list[Block], url: str | None) -> None:
        source = "\n".join(header)
        source = source.replace("import sys\n", "import sys, warnings\n"
                                "warnings.simplefilter('ignore')\n", 1)
        if url is not None:
            source = re.sub(r"create_engine\((['\"]).*?\1", f"create_engine({url!r}", source)
        self.header = source
        self.tail = [line for block in tail for line in block]
        #: the number of lines the final prints write (what must still differ)
        self.prints = sum(line.startswith("print(") for line in self.tail)
        self.dir = tempfile.mkdtemp(prefix="session_ext_minimize_")
        self.runs = 0

    def outputs(self, blocks: list[Block]) -> list[str] | None:
        """Each library's normalized output, None when either fails to run."""
        steps = [line for block in blocks for line in block]
        source = "\n".join([self.header, *steps, *self.tail]) + "\n"
        outs = []
        for library in ("sqlalchemy", "session_ext"):
            path = Path(self.dir, f"program_{library}.py")  # not sqlalchemy.py: no shadowing
            path.write_text(source.replace(LIBRARY_LINE, f'LIBRARY = "{library}"'))
            self.runs += 1
            try:
                done = subprocess.run([sys.executable, str(path)], capture_output=True,
                                      text=True, cwd=ROOT, timeout=120,
                                      env={**os.environ, "PYTHONPATH": str(ROOT)})
            except subprocess.TimeoutExpired:
                return None
            if done.returncode != 0:
                return None
            outs.append(normalized(done.stdout))
        return outs

    def differs(self, blocks: list[Block]) -> bool:
        outs = self.outputs(blocks)
        if outs is None:
            return False
        last = [out.splitlines()[-self.prints:] for out in outs]
        return last[0] != last[1]


def minimize(blocks: list[Block], differs) -> list[Block]:
    """The blocks left once no chunk (halves, quarters, ... single blocks) can go."""
    parts = 2
    while len(blocks) >= 2:
        size = max(1, len(blocks) // parts)
        removed = False
        i = 0
        while i < len(blocks):
            candidate = blocks[:i] + blocks[i + size:]
            if candidate and differs(candidate):
                blocks = candidate
                removed = True
            else:
                i += size
        if not removed:
            if size == 1:
                break
            parts = min(len(blocks), parts * 2)
    return blocks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report")
    parser.add_argument("out", nargs="?")
    parser.add_argument("--url", help="database URL to run the program on")
    args = parser.parse_args(argv)
    header, blocks, tail = split_report(Path(args.report).read_text())
    runner = Runner(header, tail, args.url)
    if not runner.differs(blocks):
        shutil.rmtree(runner.dir, ignore_errors=True)
        print("the report's program shows no difference when run as a script", file=sys.stderr)
        return 1
    try:
        blocks = minimize(blocks, runner.differs)
        outs = runner.outputs(blocks) or ["?", "?"]
    finally:
        shutil.rmtree(runner.dir, ignore_errors=True)
    steps = "\n".join(line for block in blocks + tail for line in block)
    out = Path(args.out or re.sub(r"(\.txt)?$", ".min.py", args.report, count=1))
    out.write_text(runner.header + "\n" + steps + "\n")
    print(steps)
    print(f"--- {runner.runs} runs; written to {out}")
    for library, output in zip(("sqlalchemy", "session_ext"), outs):
        print(f"{library}:", *output.splitlines()[-runner.prints:], sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
