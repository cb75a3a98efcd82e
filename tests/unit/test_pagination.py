"""Pagination of the JSON lists: `?page=&per_page=`, and refusals that name the parameter."""

from __future__ import annotations

import pytest

from services.gateway.web.errors import ApiError
from services.gateway.web.paging import PageRequest, page_count, page_request, paginate


def test_without_parameters_the_first_page_of_the_default_size_is_given() -> None:
    assert page_request({}) == PageRequest(page=1, per_page=50)
    assert page_request({"page": "", "per_page": ""}, default_per_page=20) == PageRequest(1, 20)


def test_a_page_has_its_items_and_says_where_it_is() -> None:
    items = list(range(1, 26))
    assert paginate(items, PageRequest(page=2, per_page=10)) == {
        "items": list(range(11, 21)), "page": 2, "per_page": 10, "total": 25}
    assert paginate(items, PageRequest(page=3, per_page=10))["items"] == [21, 22, 23, 24, 25]


def test_a_page_after_the_last_is_empty_not_an_error() -> None:
    assert paginate([1, 2], PageRequest(page=5, per_page=10)) == {
        "items": [], "page": 5, "per_page": 10, "total": 2}


@pytest.mark.parametrize("args", [{"page": "0"}, {"page": "x"}, {"per_page": "0"},
                                  {"per_page": "501"}, {"page": "-1"}, {"page": "1.5"}])
def test_bad_parameters_are_refused_with_the_field_named(args: dict[str, str]) -> None:
    with pytest.raises(ApiError) as caught:
        page_request(args)
    assert caught.value.code == "VALIDATION_FAILED"
    assert caught.value.status == 422
    assert [d["field"] for d in caught.value.details] == list(args)


def test_both_bad_parameters_are_named_at_once() -> None:
    with pytest.raises(ApiError) as caught:
        page_request({"page": "0", "per_page": "abc"})
    assert {d["field"] for d in caught.value.details} == {"page", "per_page"}


def test_the_page_count_is_at_least_one() -> None:
    assert page_count(0, 50) == 1
    assert page_count(50, 50) == 1
    assert page_count(51, 50) == 2
