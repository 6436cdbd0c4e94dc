"""The offline point map speaks the viewer's language: axis titles and point labels (issue 14's rules)."""

import pandas as pd

from dashboards.plan_data import point_map

CJK = "[\u4e00-\u9fff]"


def _figure(lang: str):
    pts = pd.DataFrame(
        {
            "point_code": ["a", "b", "c"],
            "name_zh": ["江口镇城南农贸市场", "江口镇北门农贸市场", "滨河路公厕"],
            "type_name_zh": ["农贸市场", "农贸市场", "公厕"],
            "type_name_en": ["Market", "Market", "Public toilet"],
            "lon": [107.10, 107.09, 107.12],
            "lat": [31.55, 31.56, 31.57],
        }
    )
    latest = pd.DataFrame(
        {"point_code": ["a", "b", "c"], "score_pct": [90.0, 70.0, 80.0], "open_problems": [0, 1, 2]}
    )
    return point_map(pts, latest, lang, "title")


def test_english_labels_have_no_chinese_and_name_type_and_number():
    fig = _figure("en")
    assert list(fig.data[0].text) == ["Market 1", "Market 2", "Public toilet 1"]
    assert fig.layout.xaxis.title.text == "Longitude" and fig.layout.yaxis.title.text == "Latitude"
    assert not pd.Series(list(fig.data[0].text)).str.contains(CJK).any()


def test_chinese_labels_are_the_point_names_and_axis_titles_chinese_only():
    fig = _figure("zh")
    assert list(fig.data[0].text) == ["江口镇城南农贸市场", "江口镇北门农贸市场", "滨河路公厕"]
    assert fig.layout.xaxis.title.text == "经度" and fig.layout.yaxis.title.text == "纬度"
