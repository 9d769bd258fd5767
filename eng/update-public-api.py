#!/usr/bin/env python3
"""Brings each src project's PublicAPI.Unshipped.txt in line with what the PublicApiAnalyzers report.

Builds the solution, adds every symbol RS0016 says is missing and removes every one RS0017 says is gone,
then builds again to check. Run it after changing a public API, and review the diff it leaves.
"""
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

root = Path(__file__).resolve().parent.parent
pattern = re.compile(r"error (RS001[67]): Symbol '(.+?)' (?:is not part of|is part of).*\[(.+?\.csproj)\]")

for round_ in range(3):
    build = subprocess.run(["dotnet", "build", str(root / "Herald.slnx"), "--no-incremental", "-nologo", "-clp:NoSummary"],
                           capture_output=True, text=True)
    add, remove = defaultdict(set), defaultdict(set)
    for code, symbol, project in pattern.findall(build.stdout):
        (add if code == "RS0016" else remove)[Path(project).parent].add(symbol)
    if not add and not remove:
        print("PublicAPI files are up to date" if build.returncode == 0 else build.stdout[-3000:])
        sys.exit(build.returncode)
    for folder in set(add) | set(remove):
        path = folder / "PublicAPI.Unshipped.txt"
        lines = path.read_text().splitlines() if path.exists() else ["#nullable enable"]
        header, body = lines[:1], set(lines[1:])
        body = (body - remove[folder]) | add[folder]
        path.write_text("\n".join(header + sorted(body, key=lambda s: s.lstrip("~").lower())) + "\n")
        print(f"{path.relative_to(root)}: +{len(add[folder])} -{len(remove[folder])}")
sys.exit(1)
