from datetime import date

from apps.worklog.models import Skill


def test_it_lists_skills_with_counts_last_use_and_a_link_to_their_entries(alice_client, make_entry):
    make_entry(skills=["Go", "SQL"], occurred_on=date(2025, 1, 5))
    make_entry(skills=["Go"], occurred_on=date(2025, 2, 7))
    page = alice_client.get("/log/skills/").content.decode()
    assert page.index(">Go</a>") < page.index(">SQL</a>")
    assert "Feb 7, 2025" in page and "Jan 5, 2025" in page
    assert "/log/?skill=Go" in page


def test_it_has_an_empty_state(alice_client):
    assert "No skills yet" in alice_client.get("/log/skills/").content.decode()


def test_it_renames_a_skill(alice_client, make_entry):
    skill = make_entry(skills=["k8"]).skills.get()
    assert 'value="k8"' in alice_client.get(f"/log/skills/{skill.pk}/").content.decode()
    response = alice_client.post(f"/log/skills/{skill.pk}/rename/", {"name": "k8s"})
    assert response.url == "/log/skills/"
    assert Skill.objects.get().name == "Kubernetes"


def test_it_explains_a_rename_onto_an_existing_skill(alice_client, make_entry):
    entry = make_entry(skills=["Go", "Golang things"])
    other = entry.skills.get(name="Golang things")
    response = alice_client.post(f"/log/skills/{other.pk}/rename/", {"name": "golang"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "You already have the skill “Go”. Merge “Golang things” into it instead." in page
    assert 'value="golang"' in page


def test_it_merges_a_skill_into_another(alice_client, make_entry):
    make_entry("a", skills=["React", "React.js native"])
    make_entry("b", skills=["React.js native"])
    source, target = Skill.objects.get(name="React.js native"), Skill.objects.get(name="React")
    response = alice_client.post(f"/log/skills/{source.pk}/merge/", {"target": target.pk})
    assert response.url == "/log/skills/"
    assert list(Skill.objects.values_list("name", flat=True)) == ["React"]
    assert target.entries.count() == 2


def test_it_refuses_a_merge_target_from_another_workspace(alice_client, make_entry, charlie, other_tenant):
    source = make_entry(skills=["Go"]).skills.get()
    theirs = make_entry(skills=["Rust"], owner=charlie, workspace=other_tenant).skills.get()
    response = alice_client.post(f"/log/skills/{source.pk}/merge/", {"target": theirs.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert Skill.objects.count() == 2
