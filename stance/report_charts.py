"""The SVG charts of `stance report`: each takes a table from `stance.report` and returns one
inline ``<svg>`` element, drawn by matplotlib's object API (no pyplot, so no global backend is
chosen and no figure outlives its function), text kept as text and the same input giving the same
bytes. The page around them is `stance.report_html`."""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from stance.report import LABELS

__all__ = ["changes_chart", "pct", "shares_chart", "timeline_chart"]

COLORS = {"pro": "#2166ac", "anti": "#c0392b", "neutral": "#b8b8b8"}
_RC = {
    "svg.fonttype": "none",  # text stays text: smaller, selectable, searchable
    "svg.hashsalt": "stance-report",  # the same input gives the same file
    "text.parse_math": False,  # a "$" in a speaker's name is a dollar sign, not TeX
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#999999",
    "xtick.color": "#555555",
    "ytick.color": "#333333",
    "legend.frameon": False,
}


def pct(share: float) -> str:
    """A share as a whole percentage: 0.456 -> "46%" (the charts' labels and the tables' alike)."""
    return f"{100 * share:.0f}%"


def _svg(draw, *args: Any, layout: str | None = "constrained") -> str:
    """Draw on a fresh Figure (matplotlib's object API: no pyplot, no global backend) and return
    its inline SVG element."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_RC), warnings.catch_warnings():
        # A name in a script the default font lacks: the browser draws it (fonttype none).
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        fig = Figure(layout=layout)
        draw(fig, *args)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _short(name: str, limit: int = 36) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _speaker_rows(ax, names: Sequence[Any]) -> None:
    """One row a speaker, bottom-up, labelled with the (shortened) names and no y axis line."""
    ax.set_yticks(range(len(names)), [_short(str(name)) for name in names])
    ax.set_ylim(-0.6, len(names) - 0.4)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)


def shares_chart(rows: pd.DataFrame) -> str:
    def draw(fig, rows: pd.DataFrame) -> None:
        rows = rows.sort_values(
            "net_stance", kind="stable"
        )  # barh draws bottom-up: most pro on top
        fig.set_size_inches(11, 0.32 * len(rows) + 1.0)
        ax = fig.add_subplot()
        y = np.arange(len(rows))
        left = np.zeros(len(rows))
        present = [label for label in LABELS if rows[label].sum() > 0]
        for label in present:
            share = rows[f"share_{label}"].to_numpy()
            ax.barh(y, share, left=left, height=0.72, color=COLORS[label], label=label)
            for yi, start, width in zip(y, left, share, strict=True):
                if width >= 0.07:
                    ax.text(
                        start + width / 2,
                        yi,
                        pct(width),
                        ha="center",
                        va="center",
                        fontsize=7.5,
                        color="#222222" if label == "neutral" else "white",
                    )
            left += share
        for yi, n in zip(y, rows["quotes"], strict=True):
            ax.text(1.01, yi, f"{n:,}", va="center", fontsize=8, color="#555555")
        _speaker_rows(ax, rows.index)
        ax.set_xlim(0, 1)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0%", "25%", "50%", "75%", "100%"])
        ax.legend(
            loc="lower left", bbox_to_anchor=(0, 1.0), ncol=len(present), fontsize=8, handlelength=1
        )

    return _svg(draw, rows)


def changes_chart(changes: pd.DataFrame) -> str:
    def draw(fig, changes: pd.DataFrame) -> None:
        rows = changes.iloc[::-1]  # biggest move at the top
        fig.set_size_inches(11, 0.34 * len(rows) + 1.0)
        ax = fig.add_subplot()
        ax.axvline(0, color="#bbbbbb", linewidth=0.8)
        for yi, row in enumerate(rows.itertuples(index=False)):
            color = COLORS["pro"] if row.change > 0 else COLORS["anti"]
            alpha = 1.0 if abs(row.z) >= 2 else 0.35
            ax.annotate(
                "",
                xy=(row.net_after, yi),
                xytext=(row.net_before, yi),
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": color,
                    "alpha": alpha,
                    "lw": 1.6,
                    "shrinkA": 4,
                    "shrinkB": 3,
                },
            )
            ax.plot([row.net_before], [yi], "o", ms=6, mfc="white", mec=color, alpha=alpha)
            ax.plot([row.net_after], [yi], "o", ms=6, color=color, alpha=alpha)
        _speaker_rows(ax, rows["speaker"])
        ax.set_xlim(-1.08, 1.08)
        ax.set_xticks([-1, -0.5, 0, 0.5, 1], ["−1\nall anti", "−0.5", "0", "+0.5", "+1\nall pro"])
        ax.set_xlabel("net stance: earlier half (hollow) → later half (filled)")

    return _svg(draw, changes)


def timeline_chart(timeline: pd.DataFrame, speakers: list[str]) -> str:
    def draw(fig, timeline: pd.DataFrame, speakers: list[str]) -> None:
        import matplotlib.dates as mdates
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch
        from matplotlib.ticker import MaxNLocator

        ncols = 1 if len(speakers) == 1 else 2
        nrows = -(-len(speakers) // ncols)
        height = 1.95 * nrows + 0.75
        fig.set_size_inches(11, height)
        fig.subplots_adjust(
            left=0.065,
            right=0.955,
            bottom=0.4 / height,
            top=1 - 0.55 / height,
            hspace=0.45,
            wspace=0.22,
        )
        axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
        months = pd.date_range(timeline["month"].min(), timeline["month"].max(), freq="MS")
        middle = months + pd.Timedelta(days=14)  # a month's point and bar sit mid-month
        for ax, speaker in zip(axes, speakers, strict=False):
            data = timeline[timeline["speaker"] == speaker].set_index("month").reindex(months)
            counts = data["quotes"].fillna(0).to_numpy()
            net = data["net_stance"].to_numpy(dtype=float)
            bars = ax.twinx()
            bars.bar(middle, counts, width=22, color="#dddddd", linewidth=0)
            bars.set_ylim(0, max(counts.max(), 1) * 1.15)
            bars.tick_params(axis="y", labelsize=7, colors="#999999", length=0)
            bars.yaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
            bars.spines[["top", "left"]].set_visible(False)
            bars.spines["right"].set_color("#cccccc")
            ax.set_zorder(bars.get_zorder() + 1)  # the stance line over the bars
            ax.patch.set_visible(False)
            ax.axhline(0, color="#aaaaaa", linewidth=0.7)
            ax.plot(middle, net, color="#444444", linewidth=1.2)
            for label, side in (("pro", net >= 0), ("anti", net <= 0)):
                ax.fill_between(
                    middle,
                    0,
                    net,
                    where=side,
                    interpolate=True,
                    color=COLORS[label],
                    alpha=0.2,
                    linewidth=0,
                )
            solid = counts >= 3
            ax.plot(middle[solid], net[solid], "o", ms=3.5, color="#444444")
            ax.plot(middle[~solid], net[~solid], "o", ms=3.5, mfc="white", mec="#444444")
            ax.set_ylim(-1.15, 1.15)
            ax.set_yticks([-1, 0, 1], ["−1 anti", "0", "+1 pro"])
            ax.set_title(f"{_short(speaker, 48)}  ({int(counts.sum()):,} dated quotes)")
        for ax in axes[len(speakers) :]:
            ax.set_visible(False)
        locator = mdates.AutoDateLocator(maxticks=8)
        axes[0].xaxis.set_major_locator(locator)
        axes[0].xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        span = pd.Timedelta(days=16)
        axes[0].set_xlim(months[0] - span, months[-1] + pd.Timedelta(days=30) + span)
        for ax in axes[max(0, len(speakers) - ncols) : len(speakers)]:
            ax.xaxis.set_tick_params(labelbottom=True)
        fig.legend(
            handles=[
                Line2D(
                    [],
                    [],
                    color="#444444",
                    marker="o",
                    ms=3.5,
                    label="net stance that month (left axis)",
                ),
                Patch(color="#dddddd", label="quotes that month (right axis)"),
            ],
            loc="upper left",
            bbox_to_anchor=(0.055, 1),
            ncol=2,
            fontsize=8,
        )

    # A fixed layout: constrained layout over twenty axes costs seconds and gains nothing here.
    return _svg(draw, timeline, speakers, layout=None)
