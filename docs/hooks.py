"""mkdocs hooks: pages that live outside ``docs/``, and the repository's links between pages.

README.md, BENCHMARKS.md and examples/rnn-tutorial.ipynb are read on the repository's own web view
as they are; the site shows them as pages too (`EXTRA_PAGES`). Their relative links are
written for the repository (README links ``docs/data.md``, a docs page links
``../BENCHMARKS.md``), so every page's relative links are rewritten to the site's pages. A link
to a file that is no page is left as it is, for mkdocs to report in ``--strict`` builds.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

# site page → its file in the repository (relative to the repository root)
EXTRA_PAGES = {
    "index.md": "README.md",
    "benchmarks.md": "BENCHMARKS.md",
    "examples/rnn-tutorial.ipynb": "examples/rnn-tutorial.ipynb",
}
DOCS_FOLDER = "docs/"
# an inline Markdown link or image target: ](target) or ](target "title")
LINK = re.compile(r"(\]\()([^)\s]+)([^)]*\))")


def repository_root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


@event_priority(50)  # before mkdocs-jupyter's on_files, so that it renders the notebook
def on_files(files: Files, config: MkDocsConfig) -> Files:
    root = repository_root(config)
    for page, source in EXTRA_PAGES.items():
        if page == source:  # a plain file, as mkdocs-jupyter's notebook wrapper needs
            files.append(File(page, str(root), config.site_dir, config.use_directory_urls))
        else:
            files.append(File.generated(config, page, abs_src_path=str(root / source)))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    root = repository_root(config)
    source = Path(page.file.abs_src_path or "").resolve()
    page_folder = posixpath.dirname(page.file.src_uri)

    def rewrite(match: re.Match[str]) -> str:
        target = site_target(match.group(2), source, root)
        if target is None:
            return match.group(0)
        return match.group(1) + posixpath.relpath(target, page_folder or ".") + match.group(3)

    return LINK.sub(rewrite, markdown)


def site_target(link: str, source: Path, root: Path) -> str | None:
    """The site page (with its ``#anchor``) that a repository-relative ``link`` written in
    ``source`` points to; None for external links, anchors and files that are no page."""
    if "://" in link or link.startswith(("#", "/", "mailto:")):
        return None
    path, hash_sign, anchor = link.partition("#")
    try:
        in_repository = (source.parent / path).resolve().relative_to(root).as_posix()
    except ValueError:  # outside the repository
        return None
    pages = {repository_path: page for page, repository_path in EXTRA_PAGES.items()}
    if in_repository in pages:
        page = pages[in_repository]
    elif in_repository.startswith(DOCS_FOLDER):
        page = in_repository.removeprefix(DOCS_FOLDER)
    else:
        return None
    return page + hash_sign + anchor
