#!/usr/bin/env bash
# Debian packages the grader and its tests use: bubblewrap (the sandbox),
# chromium (the HTML reports are checked in a real browser), poppler-utils
# (the printed report is checked as text), fonts-nanum (a Hangul font, so the
# Korean reports are checked with real glyphs, as a Linux reader sees them). Installed when missing and we are
# root (as on CI); otherwise we say what to install and the tests that need
# them skip with that reason (never on CI, where CI=true makes them fail).
set -u
need=()
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=ko family 2>/dev/null)" ]; then need+=(fonts-nanum); fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || echo "warning: could not install ${need[*]}; tests that need them will skip (apt-get install ${need[*]})"
else
  echo "note: missing ${need[*]}; install them (e.g. sudo apt-get install ${need[*]}) to run the sandbox and browser checks"
fi
exit 0
