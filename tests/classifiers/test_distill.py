"""Distillation pieces: the student keeps exactly the chosen teacher layers, and the soft loss pulls the
student's scores towards the teacher's."""

from __future__ import annotations

import pytest

from classifiers.text_model import DEFAULT_MODEL_DIR

torch = pytest.importorskip("torch", reason="the train extra (torch) is part of the dev install")


def test_the_student_keeps_the_chosen_layers_of_its_teacher() -> None:
    from transformers import AutoModelForSequenceClassification

    from classifiers.training.distill import student_of

    teacher = AutoModelForSequenceClassification.from_pretrained(DEFAULT_MODEL_DIR, dtype=torch.float32)
    student = student_of(DEFAULT_MODEL_DIR, (1,), dropout=0.1)
    assert student.config.num_hidden_layers == 1
    assert len(student.base_model.encoder.layer) == 1
    kept = student.base_model.encoder.layer[0].state_dict()
    for name, value in teacher.base_model.encoder.layer[1].state_dict().items():
        assert torch.equal(kept[name], value), name
    assert torch.equal(student.classifier.out_proj.weight, teacher.classifier.out_proj.weight)
    ids = torch.tensor([[2, 100, 200, 3]])
    assert student(input_ids=ids).logits.shape == (1, 3)


def test_the_soft_loss_is_lowest_at_the_teachers_scores() -> None:
    from classifiers.training.distill import soft_bce

    teacher = torch.tensor([[2.0, -3.0, 0.5]])
    student = torch.tensor([[-1.0, 1.0, 0.0]], requires_grad=True)
    soft_bce(student, teacher, temperature=2.0).backward()
    assert student.grad is not None
    # Each logit is pushed towards the teacher's: the gradient points away from it.
    assert torch.all(torch.sign(student.grad) == torch.sign(student.detach() - teacher))
    at_teacher = soft_bce(teacher, teacher, 2.0)
    assert at_teacher < soft_bce(student.detach(), teacher, 2.0)
    assert at_teacher < soft_bce(teacher + 0.1, teacher, 2.0)
    assert at_teacher < soft_bce(teacher - 0.1, teacher, 2.0)
