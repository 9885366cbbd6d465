"""The settings dialog is generated from SETTINGS, saves through Config, and shows errors."""
from __future__ import annotations

import json

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from studio.config import SETTINGS, load_config
from studio.ui.dialogs.settings import SettingsDialog


def test_every_setting_gets_an_editor_of_its_kind_with_its_help(qtbot) -> None:
    dialog = SettingsDialog(load_config())
    qtbot.addWidget(dialog)
    assert set(dialog.editors) == {s.key for s in SETTINGS}
    for setting in SETTINGS:
        editor = dialog.editors[setting.key]
        assert editor.toolTip() == setting.help
        if setting.choices is not None:
            assert isinstance(editor, QComboBox)
            assert [editor.itemData(i) for i in range(editor.count())] == list(setting.choices)
        elif isinstance(setting.default, bool):
            assert isinstance(editor, QCheckBox)
        elif isinstance(setting.default, int) and int(setting.maximum or 0) >= 2**31:
            assert isinstance(editor, QDoubleSpinBox) and editor.decimals() == 0
            assert editor.maximum() == setting.maximum and editor.minimum() == int(setting.minimum or -2**31)
        elif isinstance(setting.default, int):
            assert isinstance(editor, QSpinBox) and editor.maximum() == int(setting.maximum or 2**31 - 1)
    assert dialog.values() == {s.key: s.default for s in SETTINGS}


def test_saved_values_round_trip_through_the_settings_file(qtbot, tmp_path) -> None:
    config = load_config()
    dialog = SettingsDialog(config)
    qtbot.addWidget(dialog)
    device = dialog.editors["device"]
    device.setCurrentIndex(device.findData("cpu"))
    dialog.editors["preview_every"].setValue(5)
    dialog.editors["scan_hf_cache"].setChecked(False)
    dialog.editors["models_folder"].findChild(QLineEdit).setText(str(tmp_path))
    dialog.editors["fetch_max_bytes"].setValue(8 * 1024**3)  # past 2**31: a byte count
    assert dialog.save()
    assert dialog.changed_keys == {"device", "preview_every", "scan_hf_cache", "models_folder", "fetch_max_bytes"}
    reloaded = load_config()
    assert (reloaded["device"], reloaded["preview_every"], reloaded["scan_hf_cache"], reloaded["models_folder"]) \
        == ("cpu", 5, False, str(tmp_path))
    assert reloaded["fetch_max_bytes"] == 8 * 1024**3 and isinstance(reloaded["fetch_max_bytes"], int)
    assert json.loads(config.paths.settings_file.read_text())["device"] == "cpu"
    again = SettingsDialog(reloaded)
    qtbot.addWidget(again)
    assert again.editors["device"].currentData() == "cpu" and again.editors["preview_every"].value() == 5


def test_a_failed_save_shows_the_error_and_keeps_the_old_values(qtbot) -> None:
    config = load_config()
    config.paths.settings_file.mkdir(parents=True)  # a folder where the file should go: writing fails
    dialog = SettingsDialog(config)
    qtbot.addWidget(dialog)
    dialog.editors["preview_every"].setValue(7)
    assert not dialog.save()
    assert dialog.error_label.isVisibleTo(dialog) and "Could not write" in dialog.error_label.text()
    assert config["preview_every"] == 2


def test_settings_are_grouped_in_sections_with_a_page_each(qtbot) -> None:
    from PySide6.QtWidgets import QLabel

    from studio.config import SECTIONS

    dialog = SettingsDialog(load_config())
    qtbot.addWidget(dialog)
    assert list(dialog.section_pages) == list(SECTIONS)
    assert [dialog.section_list.item(i).text() for i in range(dialog.section_list.count())] == list(SECTIONS)
    for section, page in dialog.section_pages.items():
        assert page.findChildren(QLabel)[0].text() == section  # the page's header
        keys = {s.key for s in SETTINGS if s.section == section}
        assert keys and all(page.isAncestorOf(dialog.editors[key]) for key in keys)
    dialog.show_section("Storage")
    assert dialog.pages.currentWidget() is dialog.section_pages["Storage"]
    wanted = {"General": {"works_folder"},
              "Generation": {"models_folder", "device", "precision", "memory_saving"},
              "Storage": {"storage_backend", "gateways", "kubo_api_url", "pinning_endpoint"},
              "Wallet & networks": {"network", "rpc_urls", "wallet_idle_lock_minutes"},
              "Appearance": {"theme"}}
    for section, keys in wanted.items():
        assert keys <= {s.key for s in SETTINGS if s.section == section}


def test_theme_is_a_setting_dark_by_default_with_light(qtbot) -> None:
    config = load_config()
    dialog = SettingsDialog(config)
    qtbot.addWidget(dialog)
    combo = dialog.editors["theme"]
    assert combo.currentData() == "dark" and [combo.itemData(i) for i in range(combo.count())] == ["dark", "light"]
    combo.setCurrentIndex(combo.findData("light"))
    assert dialog.save() and dialog.changed_keys == {"theme"}
    assert load_config()["theme"] == "light"


def test_network_is_a_choice_of_the_configured_networks(qtbot) -> None:
    from studio.chain.networks import NetworkRegistry

    config = load_config()
    dialog = SettingsDialog(config)
    qtbot.addWidget(dialog)
    network = dialog.editors["network"]
    assert isinstance(network, QComboBox)
    known = NetworkRegistry.default().all()
    assert [network.itemData(i) for i in range(network.count())] == [n.key for n in known]
    assert network.currentData() == "devnet" and network.currentText().startswith("Studio devnet")
    network.setCurrentIndex(network.findData("sepolia"))
    assert dialog.save() and load_config()["network"] == "sepolia"


def test_one_entry_per_line_settings_are_multi_line_boxes(qtbot) -> None:
    from PySide6.QtWidgets import QPlainTextEdit

    config = load_config()
    dialog = SettingsDialog(config)
    qtbot.addWidget(dialog)
    for key in ("rpc_urls", "marketplace_addresses"):
        editor = dialog.editors[key]
        assert isinstance(editor, QPlainTextEdit) and editor.height() >= 3 * editor.fontMetrics().lineSpacing()
    lines = "sepolia=https://sepolia.example/key\nbase-sepolia=https://base.example/key"
    dialog.editors["rpc_urls"].setPlainText(lines + "\n")
    assert dialog.save() and load_config()["rpc_urls"] == lines


def test_the_works_folder_shows_the_real_default_and_keeps_it_as_the_default(qtbot, tmp_path) -> None:
    config = load_config()
    dialog = SettingsDialog(config)
    qtbot.addWidget(dialog)
    works = dialog.editors["works_folder"].findChild(QLineEdit)
    assert works.text() == str(config.paths.data_dir / "works")
    assert dialog.values()["works_folder"] == ""  # unchanged: still "the default", wherever the data folder goes
    works.setText(str(tmp_path / "my works"))
    assert dialog.save() and load_config()["works_folder"] == str(tmp_path / "my works")


def test_the_generation_page_chooses_a_ray_cluster_and_refuses_an_address_that_is_none(qtbot) -> None:
    config = load_config()
    dialog = SettingsDialog(config)
    qtbot.addWidget(dialog)
    page = dialog.section_pages["Generation"]
    for key in ("generation_backend", "ray_address", "ray_cpus_per_worker", "ray_max_workers"):
        assert page.isAncestorOf(dialog.editors[key])
    backend = dialog.editors["generation_backend"]
    assert isinstance(backend, QComboBox) and backend.currentData() == "this_computer"
    assert [backend.itemText(i) for i in range(backend.count())] == ["This computer",
                                                                     "A Ray cluster (at the address below)"]
    address = dialog.editors["ray_address"]
    assert isinstance(address, QLineEdit) and address.text() == "local"
    backend.setCurrentIndex(backend.findData("ray_cluster"))

    address.setText("head.example")  # no port: refused when saved, with the forms it takes; nothing applied
    assert not dialog.save()
    assert "is not a Ray cluster address" in dialog.error_label.text() and "ray://HOST:10001" in dialog.error_label.text()
    assert config["generation_backend"] == "this_computer" and config["ray_address"] == "local"

    address.setText("ray://head.example:10001")
    assert dialog.save() and dialog.changed_keys == {"generation_backend", "ray_address"}
    saved = load_config()
    assert saved["generation_backend"] == "ray_cluster" and saved["ray_address"] == "ray://head.example:10001"
