# e2e.report_html: the report people read. A compare (2 ranks) writes report.html and report.md
# beside report.h5; `lineage report` renders the same bytes from report.h5 alone; the page is
# self-contained, says what the terminal says, and renders in headless Chromium without script
# errors to a screenshot that is not blank. A damaged report.h5 is bad input.
source "$(dirname "$0")/../common.sh"
e2e_begin report_html

CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[[ -n $CHROMIUM ]] || fail "chromium is not installed (scripts/test installs Debian's chromium package)"

synth independent --seed 20260101 -o A
synth derive --from A --kind drift --scale 0.05 --seed 7 -o B
synth independent --seed 20260102 -o C

note "a derived pair and an unrelated control"
compare 2 A B -o derived "${FEW_PERMUTATIONS[@]}"
expect_report derived
cp "$RUN_OUT" derived.terminal
grep -q "^report: derived/report.html$" "$RUN_OUT" || fail "the run does not print the path of report.html"
compare 2 A C -o control "${FEW_PERMUTATIONS[@]}"
expect_report control
cp "$RUN_OUT" control.terminal

note "lineage report renders the same bytes from report.h5 alone"
for dir in derived control; do
  mkdir -p "again-$dir"
  cp "$dir/report.h5" "again-$dir/"
  "$LINEAGE_BIN" report "again-$dir/report.h5" > "again-$dir.out" 2>&1 || { cat "again-$dir.out"; fail "lineage report failed"; }
  cmp "$dir/report.html" "again-$dir/report.html" || fail "$dir: report.html rendered again differs"
  cmp "$dir/report.md" "again-$dir/report.md" || fail "$dir: report.md rendered again differs"
  check check_report_html.py "$dir" "$dir.terminal"
done
grep -q "^Verdict: derived" derived.terminal || fail "the derived pair's verdict is not 'derived'"
grep -q "^Verdict: no evidence of derivation" control.terminal || fail "the control's verdict is not 'no evidence'"

note "headless Chromium: no script errors, a screenshot that is not blank"
for dir in derived control; do
  page="file://$WORK/$dir/report.html"
  flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --user-data-dir="$WORK/chromium-$dir")
  timeout -k 10 90 "$CHROMIUM" "${flags[@]}" --enable-logging=stderr --v=0 --virtual-time-budget=5000 --dump-dom "$page" \
    > "$dir.dom" 2> "$dir.console" || { tail -20 "$dir.console"; fail "$dir: chromium --dump-dom failed"; }
  grep -q 'data-sortable-tables="[1-9]' "$dir.dom" || fail "$dir: the page's script did not run to its end"
  grep -q '<body[^>]*data-script-errors=' "$dir.dom" && fail "$dir: the page raised script errors"
  if grep -E 'CONSOLE|Uncaught' "$dir.console" | grep -iE 'error|uncaught'; then fail "$dir: console errors (above)"; fi
  timeout -k 10 90 "$CHROMIUM" "${flags[@]}" --hide-scrollbars --window-size=1280,2400 --screenshot="$WORK/$dir.png" \
    "$page" > "$dir.shot.log" 2>&1 || { tail -20 "$dir.shot.log"; fail "$dir: chromium --screenshot failed"; }
  "$PYTHON" - "$WORK/$dir.png" <<'PY' || fail "$dir: the screenshot looks blank (see above)"
import sys
from png_pixels import pixel_summary
width, height, share, colours = pixel_summary(sys.argv[1])
print(f"    {width}x{height}: {100 * share:.1f} % non-white pixels, {colours} distinct colours")
assert (width, height) == (1280, 2400), (width, height)
assert share > 0.03 and colours > 40, "too few drawn pixels or colours for a page of charts"
PY
  timeout -k 10 90 "$CHROMIUM" "${flags[@]}" --no-pdf-header-footer --print-to-pdf="$WORK/$dir.pdf" "$page" \
    > "$dir.pdf.log" 2>&1 || { tail -20 "$dir.pdf.log"; fail "$dir: chromium --print-to-pdf failed"; }
  "$PYTHON" - "$WORK/$dir.pdf" <<'PY' || fail "$dir: the printed report is not a PDF of several pages (see above)"
import re, sys
data = open(sys.argv[1], "rb").read()
pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
print(f"    printed: {len(data)} bytes, {pages} pages")
assert data.startswith(b"%PDF") and pages >= 2, pages
PY
done

note "a damaged or foreign report.h5 is bad input: one line naming it, nothing written"
mkdir -p bad
head -c 4096 derived/report.h5 > bad/report.h5
"$LINEAGE_BIN" report bad/report.h5 > bad.out 2> bad.err
status=$?
((status == 2)) || { cat bad.out bad.err; fail "a truncated report.h5 exited $status, expected 2"; }
line=$(expect_one_error_line bad.err) || fail "see above"
[[ $line == *bad/report.h5* ]] || fail "the error does not name the file: $line"
[[ -e bad/report.html || -e bad/report.md ]] && fail "a failed render left output"
"$PYTHON" -c 'import h5py; h5py.File("foreign.h5", "w").create_dataset("x", data=[1, 2])'
"$LINEAGE_BIN" report foreign.h5 -o foreign-out > foreign.out 2> foreign.err
status=$?
((status == 2)) || { cat foreign.out foreign.err; fail "a foreign HDF5 file exited $status, expected 2"; }
line=$(expect_one_error_line foreign.err) || fail "see above"
[[ $line == *foreign.h5*"no seal"* ]] || fail "the error does not say the file is not lineage's: $line"
# Sealed as lineage seals (h5/h5_seal.hpp), but without the report: the missing object is named.
"$PYTHON" - << 'PY'
import hashlib
import h5py
with h5py.File("sealed.h5", "w", userblock_size=512) as f:
    f.create_dataset("x", data=[1, 2])
data = open("sealed.h5", "rb").read()
line = b"lineage report seal 1 sha256 " + hashlib.sha256(data[512:]).hexdigest().encode() + b"\n"
open("sealed.h5", "wb").write(line + data[len(line):])
PY
"$LINEAGE_BIN" report sealed.h5 -o sealed-out > sealed.out 2> sealed.err
status=$?
((status == 2)) || { cat sealed.out sealed.err; fail "a sealed HDF5 file without a report exited $status, expected 2"; }
line=$(expect_one_error_line sealed.err) || fail "see above"
[[ $line == *sealed.h5*"/report_json"* ]] || fail "the error does not name the file and the object: $line"
echo "    $line"

e2e_done
