from apps.worklog.skills import skill_complete, skill_suggest


def test_it_suggests_skills_the_text_mentions(alice_client):
    response = alice_client.post(
        "/log/suggest/",
        {"title": "Moved the API to k8s", "body": "with terraform and some js", "skills": "Terraform, "},
    )
    page = response.content.decode()
    assert 'data-value="Kubernetes"' in page and 'data-value="JavaScript"' in page
    assert 'data-value="Terraform"' not in page  # already chosen


def test_it_completes_the_skill_and_tag_being_typed(alice_client, make_entry):
    make_entry(skills=["Postgres tuning"], tags=["performance"])
    page = alice_client.post("/log/suggest/", {"skills": "Go, post", "tags": "perf"}).content.decode()
    assert 'data-value="Postgres tuning"' in page and 'data-value="PostgreSQL"' in page
    assert 'data-suggest-add="tags" data-value="performance"' in page


def test_it_answers_nothing_when_there_is_nothing_to_suggest(alice_client):
    assert alice_client.post("/log/suggest/", {"title": "Lunch"}).content.decode().strip() == ""


def test_it_uses_the_vocabulary_for_aliases_and_prefixes():
    assert skill_suggest("Wrote a golang service on AWS") == ["Go", "AWS"]
    assert skill_complete("kube")[0] == "Kubernetes"
