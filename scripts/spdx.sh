#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Put an SPDX-License-Identifier line at the top of every tracked source
# file that has none (after a #! line, a #!KAMAILIO line or an <?xml
# declaration, which must stay first). Idempotent: run it again after a
# merge. Test data whose line numbers the tests check (tests/data/, the fuzz
# corpora) and files without comments (JSON, Markdown) are left alone.
set -euo pipefail

cd "$(dirname "$0")/.."
id="SPDX-License-Identifier: GPL-2.0-or-later"

comment_for() { # file -> the comment line, or nothing
	case $1 in
	tests/data/* | tests/fuzz/corpus/* | *.md | *.json | *.png | LICENSE | \
		debian/changelog | debian/NEWS | debian/copyright | debian/source/format | \
		debian/control | .gitignore | .clang-format) ;;
	*.c | *.h) echo "/* $id */" ;;
	*.py | *.sh | *.awk | *.cfg | *.ini | *.dict | Makefile | */Makefile | \
		debian/rules | scripts/ha_status | ci/*) echo "# $id" ;;
	*.lua) echo "-- $id" ;;
	*.dot) echo "// $id" ;;
	*.zone) echo "; $id" ;;
	*.xml | *.xsd) echo "<!-- $id -->" ;;
	esac
}

n=0
while IFS= read -r f; do
	[ -f "$f" ] || continue
	c=$(comment_for "$f")
	[ -n "$c" ] || continue
	head -n 3 "$f" | grep -q "SPDX-License-Identifier" && continue
	first=$(head -n 1 "$f")
	case $first in
	'#!'* | '<?xml'*) sed -i "1a $c" "$f" ;;
	*) sed -i "1i $c" "$f" ;;
	esac
	n=$((n + 1))
done < <(git ls-files)
echo "spdx: $n files given the line"
