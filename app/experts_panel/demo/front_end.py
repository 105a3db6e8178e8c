"""Where the demo finds the built web front end when STATIC_DIR does not say."""

from __future__ import annotations

from pathlib import Path

import experts_panel

# Where the front end's build lands in a checkout (frontend/ builds with `npm run build`).
DIST = Path("frontend") / "dist"


def package_checkout() -> Path:
    """The checkout the package runs from when it was installed editable (`pip install -e
    app`, as scripts/setup does); elsewhere a folder that holds no front end."""
    return Path(experts_panel.__file__).resolve().parent.parent.parent


def find_front_end(cwd: Path, checkout: Path) -> Path | None:
    """The built front end of the checkout the command runs in, else of the checkout the
    package comes from: a `frontend/dist` holding an `index.html`."""
    for root in (cwd, checkout):
        dist = (root / DIST).resolve()
        if (dist / "index.html").is_file():
            return dist
    return None


def not_found(cwd: Path, checkout: Path) -> str:
    places = " or ".join(dict.fromkeys(str((root / DIST).resolve()) for root in (cwd, checkout)))
    return (
        f"no built front end (no index.html in {places}); build it with ./scripts/setup in "
        "a checkout, or set STATIC_DIR. Serving the API alone."
    )
