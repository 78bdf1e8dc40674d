from tests.crm_models.test_metrics import dataset  # noqa: F401 - the hand-built data set, shared
