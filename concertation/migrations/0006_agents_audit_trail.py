"""The Agents group reads the audit trail: the history rows of every tracked model, in the
admin's « Journal des modifications » and on each object's « Historique » page. History is
read only: nobody adds, changes or deletes its rows from the admin."""

from importlib import import_module

from django.db import migrations

AUDIT_PERMISSIONS = [
    "networks.view_historicaluser",
    "networks.view_historicalemailaddress",
    "networks.view_historicalnetwork",
    "networks.view_historicalmembership",
    "networks.view_historicalinvitation",
    "measures.view_historicalroadmap",
    "measures.view_historicalprogramme",
    "measures.view_historicalministry",
    "measures.view_historicalmeasure",
    "measures.view_historicalmeasureministry",
    "measures.view_historicalmeasureupdate",
    "measures.view_historicalconsultationround",
    "measures.view_historicalfeedback",
    "workgroups.view_historicalworkinggroup",
    "workgroups.view_historicalsession",
    "workgroups.view_historicalminutesversion",
    "workgroups.view_historicalactionitem",
]

_workgroups = import_module("concertation.migrations.0002_agents_workgroups")


def add_permissions(apps, schema_editor):
    _workgroups.add_named_permissions(apps, schema_editor, AUDIT_PERMISSIONS)


def remove_permissions(apps, schema_editor):
    _workgroups.remove_named_permissions(apps, schema_editor, AUDIT_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("concertation", "0005_agents_ministries"),
        ("networks", "0006_audit_trail"),
        ("measures", "0011_audit_trail"),
        ("workgroups", "0006_audit_trail"),
    ]

    operations = [migrations.RunPython(add_permissions, remove_permissions)]
