"""The figure of a ``heatmap`` panel built from an answer (no browser)."""

from __future__ import annotations

from helsestat.api.pages.panels import Answer, Words, heatmap
from helsestat.statistics.serving import Panel


def test_a_matrix_has_the_codes_of_both_axes_in_the_same_order() -> None:
    """A flow matrix whose columns hold a code no row has (a treating unit nobody lives in
    the area of, sorting first) keeps own-area care on the diagonal."""
    panel = Panel("t", "Flow", "heatmap", x="til", series="fra", measures=("n",),
                  label="til_navn", series_label="fra_navn")  # fmt: skip
    rows = [
        {"fra": f, "fra_navn": f.upper(), "til": t, "til_navn": t.upper(), "n": n}
        for f, t, n in [("b", "b", 9), ("b", "a", 1), ("a", "a", 8), ("a", "0", 2), ("p", "a", 3)]
    ]
    figure = heatmap(panel, Answer(("fra", "til"), ("n",), rows), Words({}))
    assert figure is not None
    (trace,) = figure["data"]
    assert trace["x"] == ["A", "B", "0"]
    assert trace["y"] == ["A", "B", "P"]
    assert [trace["z"][i][i] for i in range(2)] == [8, 9]
    assert trace["z"][2] == [3, None, None]
    assert trace["reversescale"] is True  # plotly's Blues runs dark → light


def test_a_place_that_moved_hf_during_the_year_gets_a_bar_per_hf() -> None:
    """A behandlingssted with a row per HF under one name: each row its own bar, told apart
    by the HF's name; places with one row keep their bare name."""
    from helsestat.api.pages.panels import bars_or_lines

    panel = Panel("t", "Places", "hbar", x="id", label="navn", measures=("pasienter",))
    rows = [
        {"hf": "1", "hf_navn": "Helse Nord HF", "id": "7", "navn": "Sted", "pasienter": 40},
        {"hf": "2", "hf_navn": "Helse Sør HF", "id": "7", "navn": "Sted", "pasienter": 25},
        {"hf": "2", "hf_navn": "Helse Sør HF", "id": "8", "navn": "Annet", "pasienter": 12},
    ]
    answer = Answer(("hf", "hf_navn", "id", "navn"), ("pasienter",), rows)
    figure = bars_or_lines(panel, answer, Words({}))
    assert figure is not None
    (trace,) = figure["data"]
    assert trace["y"] == ["Sted · Helse Nord HF", "Sted · Helse Sør HF", "Annet"]
    assert trace["x"] == [40, 25, 12]
