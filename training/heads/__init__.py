"""The task heads beside the fine-tuning: the probe on cached article vectors, heads from label descriptions,
a teacher's targets for distillation, and the calibration and TF-IDF fusion chosen on validation or over outlet
folds."""
