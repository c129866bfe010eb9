#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Turn the pairs schema into a C header, so the module carries it compiled in
# and validation never depends on a file path at run time.
# usage: xsd2c.sh config/ha_pairs.xsd > ha_xsd.h
set -e
printf '/* generated from %s by scripts/xsd2c.sh: do not edit */\n' "$1"
printf 'static const char ha_xsd[] =\n'
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$1"
printf ';\n'
