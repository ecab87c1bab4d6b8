"""Render an addon's README.rst from its manifest and its readme/*.md fragments.

The README is laid out as OCA addons' READMEs are: title, a "generated" notice,
maturity and licence badges, the description, a table of contents, then
Installation, Configuration, Usage, Known issues / Roadmap, Changelog, Bug Tracker
and Credits (authors, contributors, maintainers). OCA's own generator
(oca-gen-addon-readme, in OCA's maintainer-tools) is not published on PyPI and
converts Markdown with pandoc, whose output changes with its version; this one
converts the Markdown subset the fragments use (headings, paragraphs, lists,
fenced code, pipe tables, code spans, emphasis, links) itself, so that the same
fragments always give the same README.rst.

    python scripts/gen_addon_readme.py order_management          # write README.rst
    python scripts/gen_addon_readme.py --check order_management  # exit 1 if stale

Besides OCA's fragments, RECOVERY.md is rendered as a section of its own,
titled by its opening heading when that heading is above all its others. A
fragment this script does not know, or Markdown it cannot convert (images, HTML,
block quotes), stops it with an error rather than being left out silently.
"""

import argparse
import ast
import io
import logging
import re
import sys
import unicodedata
from pathlib import Path

_logger = logging.getLogger("gen_addon_readme")

# (fragment, section title), in the order OCA's README template places them.
SECTIONS = (
    ("CONTEXT", "Use Cases / Context"),
    ("INSTALL", "Installation"),
    ("CONFIGURE", "Configuration"),
    ("USAGE", "Usage"),
    ("RECOVERY", "Backups and Recovery"),
    ("DEVELOP", "Development"),
    ("ROADMAP", "Known issues / Roadmap"),
    ("HISTORY", "Changelog"),
)
CREDIT_SECTIONS = (
    ("CONTRIBUTORS", "Contributors"),
    ("CREDITS", "Other credits"),
)
# Fragments OCA's generator does not know; each also reads as a document alone.
OWN_FRAGMENTS = {"RECOVERY"}
KNOWN_FRAGMENTS = {"DESCRIPTION"} | {name for name, _title in SECTIONS}
KNOWN_FRAGMENTS |= {name for name, _title in CREDIT_SECTIONS}

STATUS_BADGES = {
    "alpha": ("Alpha", "red"),
    "beta": ("Beta", "yellow"),
    "production/stable": ("Production%2FStable", "green"),
    "mature": ("Mature", "brightgreen"),
}
LICENSE_PAGES = {
    "LGPL-3": "http://www.gnu.org/licenses/lgpl-3.0-standalone.html",
    "AGPL-3": "http://www.gnu.org/licenses/agpl-3.0-standalone.html",
    "GPL-3": "http://www.gnu.org/licenses/gpl-3.0-standalone.html",
}
STATUS_PAGE = "https://odoo-community.org/page/development-status"

# Underlines of the headings inside a fragment, shallowest first: "=" is taken by
# the title and the sections.
SUB_UNDERLINES = "-~^"

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)\s*$")
LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])(\s+)(.*)$")
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
UNSUPPORTED = (
    (re.compile(r"!\["), "an image"),
    (re.compile(r"^\s*>"), "a block quote"),
    (re.compile(r"</?[a-zA-Z][^>]*>"), "HTML"),
)

INLINE = re.compile(
    r"(?P<code>(?P<ticks>`+)(?P<code_text>.+?)(?P=ticks))"
    r"|(?P<link>\[(?P<link_text>[^\]]+)\]\((?P<link_url>[^)\s]+)\))"
    r"|(?P<autolink><(?P<auto_url>https?://[^>\s]+)>)"
    r"|(?P<strong>\*\*(?P<strong_text>\S(?:.*?\S)?)\*\*)"
    r"|(?P<em>\*(?P<em_text>[^*\s](?:[^*]*?[^*\s])?)\*)"
    r"|(?P<escape>\\(?P<escaped>[!-/:-@\[-`{-~]))",
    re.DOTALL,
)
CODE_SPAN = re.compile(r"`[^`]*`")
# What reStructuredText reads as markup in plain text.
RST_SPECIAL = re.compile(r"([\\*`|])")
TRAILING_UNDERSCORE = re.compile(r"(?<=\w)(_+)(?=[\s.,;:!?)\]]|$)")


class FragmentError(ValueError):
    """A fragment holds something this converter cannot render faithfully."""


def text_width(text):
    """Columns the text takes, as docutils counts them for title underlines."""
    wide = ("W", "F")
    return sum(2 if unicodedata.east_asian_width(c) in wide else 1 for c in text)


def heading(title, underline):
    return f"{title}\n{underline * text_width(title)}"


# ------------------------------------------------------------------ inline --


def _may_open(previous):
    """Whether inline markup may start after this character (docutils' rule)."""
    if not previous or previous.isspace():
        return True
    return unicodedata.category(previous) in ("Pd", "Po", "Ps", "Pi", "Pf")


def _may_close(following):
    """Whether inline markup may end before this character (docutils' rule)."""
    if not following or following.isspace():
        return True
    return unicodedata.category(following) in ("Pd", "Po", "Pe", "Pi", "Pf")


def escape_text(text):
    text = RST_SPECIAL.sub(r"\\\1", text)
    return TRAILING_UNDERSCORE.sub(lambda match: "\\_" * len(match[1]), text)


def _plain(text):
    """Markdown inline text reduced to its characters (for link titles)."""
    return INLINE.sub(
        lambda match: match["code_text"]
        or match["link_text"]
        or match["auto_url"]
        or match["strong_text"]
        or match["em_text"]
        or match["escaped"],
        text,
    )


def _markup(match):
    if match["code"]:
        code = match["code_text"]
        # Markdown drops one space padding a code span.
        if code.startswith(" ") and code.endswith(" ") and code.strip():
            code = code[1:-1]
        return f"``{code}``"
    if match["link"]:
        title = _plain(match["link_text"]).replace("<", r"\<").replace("`", r"\`")
        return f"`{title} <{match['link_url']}>`__"
    if match["autolink"]:
        return f"`{match['auto_url']} <{match['auto_url']}>`__"
    if match["strong"]:
        return f"**{escape_text(_plain(match['strong_text']))}**"
    return f"*{escape_text(_plain(match['em_text']))}*"


def inline(text):
    """Markdown inline markup of a paragraph as reStructuredText."""
    out = []
    position = 0
    for match in INLINE.finditer(text):
        out.append(escape_text(text[position : match.start()]))
        position = match.end()
        if match["escape"]:
            out.append(escape_text(match["escaped"]))
            continue

        # reStructuredText only sees markup between spaces or punctuation: an
        # escaped space, which it drops, separates it from a letter beside it.
        previous = "".join(out)[-1:]
        if not _may_open(previous):
            out.append("\\ ")
        out.append(_markup(match))
        if not _may_close(text[position : position + 1]):
            out.append("\\ ")
    out.append(escape_text(text[position:]))
    return "".join(out)


# ------------------------------------------------------------------- blocks --


def _indent_of(line):
    return len(line) - len(line.lstrip(" "))


def _dedent(lines, width):
    return [line[width:] if line[:width].isspace() else line.lstrip() for line in lines]


def _indented(text, prefix):
    return "\n".join(prefix + line if line else "" for line in text.split("\n"))


def refuse_unsupported(line):
    outside_code = CODE_SPAN.sub("", line)
    for pattern, what in UNSUPPORTED:
        if pattern.search(outside_code):
            raise FragmentError(f"{what} is not supported: {line.strip()!r}")


def _starts_block(line):
    return bool(
        HEADING.match(line)
        or FENCE.match(line)
        or LIST_ITEM.match(line)
        or line.lstrip().startswith("|")
    )


def _split_row(line):
    cells = line.strip()
    if cells.startswith("|"):
        cells = cells[1:]
    if cells.endswith("|") and not cells.endswith("\\|"):
        cells = cells[:-1]
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", cells)]


def _table(rows):
    header, body = rows[0], rows[1:]
    columns = len(header)
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *body]:
        if len(row) != columns:
            raise FragmentError(f"a table row has {len(row)} cells, not {columns}")
        for index, cell in enumerate(row):
            marker = "   * - " if index == 0 else "     - "
            out.append((marker + inline(cell.replace("\\|", "|"))).rstrip())
    return "\n".join(out)


def _list(items, start):
    """Render list items, each a list of lines already dedented.

    start is the first item's number in an ordered list, None in a bullet list.
    """
    rendered = []
    ordered = start is not None
    for number, item_lines in enumerate(items, start=start if ordered else 1):
        marker = f"{number}. " if ordered else "- "
        body = render_blocks(item_lines, heading_levels={})
        body = _indented(body, " " * len(marker))
        rendered.append(marker + body[len(marker) :])
    loose = any("\n\n" in item for item in rendered)
    return ("\n\n" if loose else "\n").join(rendered)


def _collect_list(lines, start):
    """The items of the list at lines[start], its first number, where it ends."""
    first = LIST_ITEM.match(lines[start])
    base = _indent_of(lines[start])
    ordered = first[2][0].isdigit()
    number = int(first[2][:-1]) if ordered else None
    items = []
    index = start
    while index < len(lines):
        match = LIST_ITEM.match(lines[index])
        if not match or _indent_of(lines[index]) != base:
            break
        if match[2][0].isdigit() != ordered:
            break
        content = base + len(match[2]) + len(match[3])
        item = [match[4]]
        index += 1
        in_paragraph = True
        while index < len(lines):
            line = lines[index]
            if not line.strip():
                # A blank line ends the item unless indented content follows.
                following = next(
                    (later for later in lines[index + 1 :] if later.strip()), ""
                )
                if _indent_of(following) >= content:
                    item.append("")
                    index += 1
                    in_paragraph = False
                    continue
                break
            if _indent_of(line) >= content:
                item.append(line)
                in_paragraph = not _starts_block(line[content:])
            elif in_paragraph and not _starts_block(line):
                # A lazy continuation line of the item's paragraph.
                item.append(" " * content + line.lstrip())
            else:
                break
            index += 1
        items.append([item[0], *_dedent(item[1:], content)])
        # Blank lines between the items of one list.
        while index < len(lines) and not lines[index].strip():
            following = next((ln for ln in lines[index:] if ln.strip()), "")
            same_list = LIST_ITEM.match(following) and _indent_of(following) == base
            if not same_list:
                break
            index += 1
    return items, number, index


def render_blocks(lines, heading_levels):
    """Markdown block structure of these lines as reStructuredText blocks.

    heading_levels maps a Markdown heading depth to its underline; it is filled
    in order of appearance, shallowest first, over the whole fragment.
    """
    blocks = []
    index = 0
    while index < len(lines):
        line = lines[index]
        refuse_unsupported(line)
        if not line.strip():
            index += 1
            continue

        heading_match = HEADING.match(line)
        if heading_match:
            depth = len(heading_match[1])
            if depth not in heading_levels:
                if any(known > depth for known in heading_levels):
                    raise FragmentError(f"a heading above the first one: {line!r}")
                if len(heading_levels) == len(SUB_UNDERLINES):
                    raise FragmentError(f"headings nested too deep: {line!r}")
                heading_levels[depth] = SUB_UNDERLINES[len(heading_levels)]
            blocks.append(heading(inline(heading_match[2]), heading_levels[depth]))
            index += 1
            continue

        fence = FENCE.match(line)
        if fence:
            closing = index + 1
            while closing < len(lines) and not (
                lines[closing].strip().startswith(fence[2])
                and not lines[closing].strip().strip(fence[2][0])
            ):
                closing += 1
            if closing == len(lines):
                raise FragmentError(f"unclosed code fence: {line.strip()!r}")
            code = _dedent(lines[index + 1 : closing], len(fence[1]))
            blocks.append("::\n\n" + _indented("\n".join(code), "   "))
            index = closing + 1
            continue

        if LIST_ITEM.match(line):
            items, number, index = _collect_list(lines, index)
            blocks.append(_list(items, number))
            continue

        is_table = line.lstrip().startswith("|") and index + 1 < len(lines)
        if is_table and TABLE_RULE.match(lines[index + 1]):
            rows = [_split_row(line)]
            index += 2
            while index < len(lines) and lines[index].lstrip().startswith("|"):
                refuse_unsupported(lines[index])
                rows.append(_split_row(lines[index]))
                index += 1
            blocks.append(_table(rows))
            continue

        paragraph = [line.strip()]
        index += 1
        while (
            index < len(lines)
            and lines[index].strip()
            and not _starts_block(lines[index])
        ):
            refuse_unsupported(lines[index])
            paragraph.append(lines[index].strip())
            index += 1
        blocks.append(inline("\n".join(paragraph)))
    return "\n\n".join(blocks)


def render_fragment(text):
    return render_blocks(text.expandtabs(4).split("\n"), heading_levels={})


# ----------------------------------------------------------------- document --


def read_manifest(addon_dir):
    return ast.literal_eval((addon_dir / "__manifest__.py").read_text("utf-8"))


def split_title(text):
    """(title, rest) of a fragment that reads as a document alone.

    Its opening heading is its title when no other heading is as high; otherwise
    the title is None and the text is left whole.
    """
    first_line, _newline, rest = text.partition("\n")
    title_match = HEADING.match(first_line)
    if not title_match:
        return None, text
    depth = len(title_match[1])
    for line in rest.split("\n"):
        other = HEADING.match(line)
        if other and len(other[1]) <= depth:
            return None, text
    return inline(title_match[2]), rest.strip()


def read_fragments(addon_dir):
    fragments = {}
    for path in sorted((addon_dir / "readme").glob("*.md")):
        if path.stem not in KNOWN_FRAGMENTS:
            raise FragmentError(
                f"{path.name}: unknown fragment; known: {sorted(KNOWN_FRAGMENTS)}"
            )
        text = path.read_text("utf-8").strip()
        if not text:
            continue

        title = None
        if path.stem in OWN_FRAGMENTS:
            title, text = split_title(text)
        try:
            fragments[path.stem] = (title, render_fragment(text))
        except FragmentError as error:
            raise FragmentError(f"{path.name}: {error}") from error
    return fragments


def _badges(manifest):
    badges = []
    status = manifest.get("development_status", "Beta")
    if status.lower() in STATUS_BADGES:
        label, colour = STATUS_BADGES[status.lower()]
        image = f"https://img.shields.io/badge/maturity-{label}-{colour}.png"
        badges.append((image, STATUS_PAGE, status))
    license_name = manifest.get("license", "LGPL-3")
    if license_name in LICENSE_PAGES:
        label = license_name.replace("-", "--")
        image = f"https://img.shields.io/badge/licence-{label}-blue.png"
        badges.append((image, LICENSE_PAGES[license_name], f"License: {license_name}"))
    return badges


def render_readme(addon_dir):
    """The addon's README.rst, as text."""
    addon_dir = Path(addon_dir)
    manifest = read_manifest(addon_dir)
    fragments = read_fragments(addon_dir)
    name = manifest["name"]
    rule = "=" * text_width(name)
    out = [
        f"{rule}\n{name}\n{rule}",
        "..\n"
        "   This file is generated by scripts/gen_addon_readme.py from the\n"
        "   manifest and readme/*.md: edit those, then run the script again.",
    ]

    badges = _badges(manifest)
    out.append(
        "\n".join(
            f".. |badge{number}| image:: {image}\n"
            f"    :target: {target}\n"
            f"    :alt: {alt}"
            for number, (image, target, alt) in enumerate(badges, start=1)
        )
    )
    out.append(" ".join(f"|badge{number}|" for number in range(1, len(badges) + 1)))

    if "DESCRIPTION" in fragments:
        out.append(fragments["DESCRIPTION"][1])
    if manifest.get("development_status", "").lower() == "alpha":
        out.append(
            ".. IMPORTANT::\n"
            "   This is an alpha version: its data model and design may change\n"
            "   without warning. Use it for development or testing, not in\n"
            "   production.\n"
            f"   `More details on development status <{STATUS_PAGE}>`__"
        )
    out.append("**Table of contents**\n\n.. contents::\n   :local:")

    for fragment, default_title in SECTIONS:
        if fragment in fragments:
            title, body = fragments[fragment]
            out.append(heading(title or default_title, "="))
            out.append(body)

    website = manifest.get("website", "").rstrip("/")
    if website.startswith("https://github.com/"):
        out.append(heading("Bug Tracker", "="))
        out.append(
            f"Bugs are tracked on `GitHub Issues <{website}/issues>`__. In case of\n"
            "trouble, please check there if your issue has already been reported."
        )

    out.append(heading("Credits", "="))
    authors = [a.strip() for a in manifest.get("author", "").split(",") if a.strip()]
    if authors:
        out.append(heading("Authors", "-"))
        out.append("\n".join(f"- {escape_text(author)}" for author in authors))
    for fragment, default_title in CREDIT_SECTIONS:
        if fragment in fragments:
            title, body = fragments[fragment]
            out.append(heading(title or default_title, "-"))
            out.append(body)
    out.append(heading("Maintainers", "-"))
    addon_name = addon_dir.resolve().name
    project = "its project"
    if website:
        label = website.split("://", 1)[-1].removeprefix("github.com/")
        project = f"the `{label} <{website}>`__ project"
    out.append(f"This module, ``{addon_name}``, is maintained in {project}.")
    return "\n\n".join(out) + "\n"


def rst_problems(text, source_path="README.rst"):
    """docutils' warnings and errors on this reStructuredText, as one string."""
    import docutils.core

    stream = io.StringIO()
    settings = {
        # Report warnings and worse to the stream; stop at nothing.
        "report_level": 2,
        "halt_level": 5,
        "warning_stream": stream,
        "file_insertion_enabled": False,
        "raw_enabled": False,
    }
    docutils.core.publish_doctree(
        text, source_path=source_path, settings_overrides=settings
    )
    return stream.getvalue().strip()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("addon_dir", type=Path)
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when README.rst differs from the fragments",
    )
    args = parser.parse_args(argv)

    readme_path = args.addon_dir / "README.rst"
    text = render_readme(args.addon_dir)
    problems = rst_problems(text, str(readme_path))
    if problems:
        _logger.error("%s", problems)
        return 1
    current = readme_path.read_text("utf-8") if readme_path.exists() else None
    if args.check:
        if current != text:
            _logger.error(
                "%s is out of date: run python scripts/gen_addon_readme.py %s",
                readme_path,
                args.addon_dir,
            )
            return 1
        return 0
    if current != text:
        readme_path.write_text(text, "utf-8")
        _logger.info("wrote %s", readme_path)
    return 0


if __name__ == "__main__":
    logging.basicConfig(format="%(message)s", level=logging.INFO)
    sys.exit(main())
