"""What a person sees of a page, measured in the browser after it loaded, and judged: the
main heading in view, nothing wider than the screen, every chart drawn, no serious or
critical accessibility fault (axe-core). Each `*_problems` function answers sentences a
developer can act on; an empty list means the page is fine. Used by test_pages_seen.py."""
from __future__ import annotations

import re
import unicodedata

# The measurements, in one round trip. Charts: every element with role="img" in main, and
# every svg in main named a chart or map. Bars: the innermost element whose class is "bar",
# "bars" or starts/ends with "bar-"/"-bar"/"bar_" (not "navbar", "sidebar"); its drawn part is
# its largest child (or itself without children), its value the number in its row's cells.
LOOK = """async (screen) => {
  await document.fonts.ready;
  const main = document.querySelector('main');
  const vw = window.innerWidth, vh = window.innerHeight;
  const describe = el => {
    let text = el.tagName.toLowerCase();
    if (el.id) text += '#' + el.id;
    const classes = typeof el.className === 'string' ? el.className.trim() : '';
    if (classes) text += '.' + classes.split(/\\s+/).join('.');
    return text;
  };
  const box = el => { const r = el.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height}; };

  const heading = main && main.querySelector('h1');
  const seen = {
    lang: document.documentElement.lang, dir: getComputedStyle(main || document.body).direction,
    innerWidth: vw, innerHeight: vh, scrollX: window.scrollX,
    scrollWidth: document.documentElement.scrollWidth, hasMain: !!main,
    heading: heading ? {...box(heading), text: heading.innerText.trim().slice(0, 80),
                        shown: heading.checkVisibility({visibilityProperty: true, opacityProperty: true})} : null,
    sticking_out: [], charts: [], bars: [],
  };

  if (seen.scrollWidth > screen || vw > screen) {  // what reaches beyond the screen (the outermost of each)
    // Clipped by a scrolling or hidden-overflow ancestor, unless positioned out of it (absolute
    // without a positioned ancestor inside it, as a visually-hidden span is).
    const clipped = el => {
      let position = getComputedStyle(el).position;
      for (let a = el.parentElement; a && a !== document.body && position !== 'fixed'; a = a.parentElement) {
        const cs = getComputedStyle(a), clips = cs.overflowX !== 'visible';
        if (position !== 'absolute') { if (clips) return true; }
        else if (cs.position !== 'static') { if (clips) return true; position = cs.position; }
      }
      return false;
    };
    // Only one side can be scrolled to: the end (right in LTR, left in RTL).
    const rtl = getComputedStyle(document.documentElement).direction === 'rtl';
    const out = el => { const r = el.getBoundingClientRect(), left = r.left + window.scrollX;  // on the page
      return r.width > 0 && (rtl ? left < -0.5 : left + r.width > screen + 0.5); };
    const offenders = new Set();
    for (const el of document.body.querySelectorAll('*')) {
      if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
      if (out(el) && !clipped(el)) offenders.add(el);
    }
    const kinds = new Map();  // the same kind of element once: how many, from where to where
    for (const el of offenders) {
      if (offenders.has(el.parentElement)) continue;
      const r = el.getBoundingClientRect(), left = r.left + window.scrollX, what = describe(el);
      const kind = kinds.get(what) || {n: 0, left, right: left + r.width};
      kinds.set(what, {n: kind.n + 1, left: Math.min(kind.left, left), right: Math.max(kind.right, left + r.width)});
    }
    for (const [what, k] of [...kinds].slice(0, 6))
      seen.sticking_out.push(`${k.n > 1 ? k.n + ' × ' : ''}${what} (from ${Math.round(k.left)} to ${Math.round(k.right)} px)`);
  }
  if (!main) return seen;

  const shapes = 'path, rect, circle, ellipse, line, polyline, polygon, image, img, canvas';
  const drawn = s => {
    const r = s.getBoundingClientRect(), cs = getComputedStyle(s);
    if (cs.display === 'none' || cs.visibility === 'hidden' || Number(cs.opacity) === 0) return false;
    if (['img', 'canvas', 'image'].includes(s.tagName.toLowerCase())) return r.width > 0 && r.height > 0;
    const filled = cs.fill !== 'none' && r.width > 0 && r.height > 0;
    const stroked = cs.stroke !== 'none' && parseFloat(cs.strokeWidth) > 0 && (r.width > 0 || r.height > 0);
    return filled || stroked;
  };
  const candidates = [...main.querySelectorAll(
    '[role=img], svg[class*=chart i], svg[class*=map i], svg[class*=graph i]')];
  const charts = candidates.filter(c => !candidates.some(o => o !== c && o.contains(c)));
  for (const c of charts) {
    const all = [...c.querySelectorAll(shapes)];
    if (c.matches('img, canvas')) all.push(c);
    seen.charts.push({what: describe(c), label: (c.getAttribute('aria-label') || '').slice(0, 60), ...box(c),
                      shapes: all.length, drawn: all.filter(drawn).length});
  }

  const BAR = /(^|[-_])bars?([-_]|$)/i;
  const isBar = el => [...el.classList].some(c => BAR.test(c));
  const bars = [...main.querySelectorAll('[class]')].filter(isBar)
    .filter(el => !el.querySelector('tr, li, [role=row]') && ![...el.querySelectorAll('[class]')].some(isBar));
  for (const bar of bars) {
    const row = bar.closest('tr, li, [role=row]');
    if (!row) continue;
    const cells = [...row.querySelectorAll('td, [role=cell], data')].filter(c => !c.contains(bar) && !bar.contains(c));
    const value = cells.length ? cells.map(c => c.textContent).join(' ')
                               : row.textContent.replace(bar.textContent, '');
    const parts = [...bar.children];
    const width = parts.length ? Math.max(...parts.map(p => p.getBoundingClientRect().width))
                               : bar.getBoundingClientRect().width;
    const chart = row.closest('table, ul, ol, figure, [role=table], [role=list]');
    const caption = chart && (chart.querySelector('caption, figcaption') || {}).textContent;
    const label = row.querySelector('th, [scope=row], [role=rowheader]');
    seen.bars.push({chart: (caption || (chart && chart.getAttribute('aria-label')) || '').trim().slice(0, 60),
                    row: (label ? label.textContent : row.textContent).trim().slice(0, 40),
                    value: value.trim().slice(0, 40), width});
  }
  return seen;
}"""

NUMBER = re.compile(r"\d(?:[\d.,\u066b\u066c\u202f\u00a0' ]*\d)?")


def above_zero(text: str) -> bool | None:
    """Whether the last number written in `text` is above 0, in any script's digits (Persian
    ۱۲, Arabic ١٢) and with any separators; None when there is no number."""
    found = NUMBER.findall(text)
    if not found:
        return None
    return any(unicodedata.digit(ch) for ch in found[-1] if ch.isdigit())


def look(page, width: int) -> dict:
    """Measure what the page shows now on a screen `width` px wide (after its web fonts): see LOOK."""
    return page.evaluate(LOOK, width)


def layout_problems(seen: dict, width: int, height: int, lang: str, direction: str) -> list[str]:
    """The main heading in view on load, nothing wider than the screen, not scrolled sideways,
    and the page in the language and direction asked for."""
    problems = []
    if not seen["lang"].lower().startswith(lang) or seen["dir"] != direction:
        problems.append(f"the page is not in {lang} ({direction}): <html lang={seen['lang']!r}>, main is {seen['dir']}")
    if seen["innerWidth"] > width:
        problems.append(f"the browser zoomed out to fit the page: {seen['innerWidth']} px shown on a {width} px screen")
    if seen["scrollWidth"] > min(width, seen["innerWidth"]):
        where = "; ".join(seen["sticking_out"]) or "no single element found"
        problems.append(f"it overflows sideways: the page is {seen['scrollWidth']} px wide on a {width} px screen "
                        f"(sticking out: {where})")
    if seen["scrollX"] != 0:
        problems.append(f"it opens scrolled sideways (scrollX = {seen['scrollX']})")
    heading = seen["heading"]
    if not seen["hasMain"]:
        problems.append("there is no <main>")
    elif heading is None:
        problems.append("there is no main heading (main h1)")
    else:
        first_line = min(heading["height"], 24)  # its first line at least
        if not heading["shown"] or heading["width"] == 0:
            problems.append(f"the main heading {heading['text']!r} is not shown")
        if heading["left"] < -0.5 or heading["right"] > min(width, seen["innerWidth"]) + 0.5:
            problems.append(f"the main heading {heading['text']!r} is not in view sideways: it spans "
                            f"{heading['left']:.0f}..{heading['right']:.0f} px of {width}")
        if heading["top"] < 0 or heading["top"] + first_line > height:
            problems.append(f"the main heading {heading['text']!r} is not on the first screen: it starts at "
                            f"{heading['top']:.0f} px of {height}")
    return problems


def chart_problems(seen: dict, charts: int = 0, bars: int = 0) -> list[str]:
    """Every chart or map drew a shape with a size; every bar whose value is above 0 has a
    width; and at least `charts` charts and `bars` drawn bars are there (so a chart that
    disappeared, or a selector that no longer finds it, is a failure too)."""
    problems = []
    for chart in seen["charts"]:
        name = f"{chart['what']} {chart['label']!r}".strip()
        if chart["width"] <= 0 or chart["height"] <= 0:
            problems.append(f"the chart {name} has no size ({chart['width']:.0f}×{chart['height']:.0f} px)")
        elif chart["drawn"] == 0:
            problems.append(f"the chart {name} drew nothing: none of its {chart['shapes']} shapes has a visible size")
    drawn_bars = 0
    for bar in seen["bars"]:
        if not above_zero(bar["value"]):
            continue
        if bar["width"] <= 0:
            problems.append(f"the bar of {bar['row']!r} ({bar['value']}) in {bar['chart']!r} is not drawn (width 0)")
        else:
            drawn_bars += 1
    if len(seen["charts"]) < charts:
        problems.append(f"{charts} chart(s) or map(s) expected in main (role=img, svg.chart, svg.map), "
                        f"{len(seen['charts'])} found")
    if drawn_bars < bars:
        problems.append(f"{bars} drawn bar(s) of values above 0 expected (class 'bar'), {drawn_bars} found")
    return problems


# Lazy images load as a reader scrolls to them: scroll through the page (after it was measured
# as it opened), wait for every image, and go back to the top; answers the images that failed.
SCROLL_THROUGH = """async () => {
  for (let y = 0; y < document.documentElement.scrollHeight; y += window.innerHeight) {
    window.scrollTo(0, y); await new Promise(r => requestAnimationFrame(() => setTimeout(r, 20)));
  }
  const images = [...document.querySelectorAll('main img')];
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.all(images.map(img => img.complete ? null : new Promise(r => {
    img.addEventListener('load', r); img.addEventListener('error', r); setTimeout(r, 5000); })));
  window.scrollTo(0, 0);
  return images.filter(img => !img.naturalWidth).map(img => img.currentSrc || img.src || img.alt);
}"""


def image_problems(page) -> list[str]:
    """Every photo in main loaded (each lazy one once scrolled to)."""
    return [f"the image {src} did not load" for src in page.evaluate(SCROLL_THROUGH)]


SERIOUS = ("serious", "critical")


def axe_problems(page, impacts: tuple[str, ...] = SERIOUS, nodes: int = 3) -> list[str]:
    """axe-core's violations of these impacts, each with its rule, impact, what to do, how many
    elements and the first elements' selectors (axe-playwright-python bundles axe-core)."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    problems = []
    for v in violations:
        if v["impact"] not in impacts:
            continue
        targets = ", ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:nodes])
        more = f" and {len(v['nodes']) - nodes} more" if len(v["nodes"]) > nodes else ""
        problems.append(f"axe {v['id']} ({v['impact']}): {v['help']}: {targets}{more} ({v['helpUrl']})")
    return problems
