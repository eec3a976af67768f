from concertation.lib.francemap import SCALE, Area, colour_for, departement_shapes, legend, render_map


def test_the_legend_says_which_counts_each_colour_stands_for():
    for maximum in (1, 3, 9, 50):
        entries = legend(maximum, percent=False)
        for value in range(1, maximum + 1):
            label = dict(entries)[colour_for(value, maximum)]
            low, _sep, high = label.partition(" – ")
            assert int(low) <= value <= int(high or low)
    assert legend(9, percent=False)[0] == (SCALE[0], "1")


def test_every_departement_is_drawn_overseas_included_and_labels_are_escaped():
    names = departement_shapes()[1]
    assert len(names) == 101 and names["976"] == "Mayotte"
    svg = render_map(
        {"93": Area(fill="#000091", label="<b>3</b>", url="/retours/?departement=93")}, title="T", description="D"
    )
    assert svg.count("<path") == 101 + 4  # Paris and its inner ring drawn again, enlarged
    assert 'href="/retours/?departement=93"' in svg
    assert "&lt;b&gt;3&lt;/b&gt;" in svg and "<b>3</b>" not in svg
