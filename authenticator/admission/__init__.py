"""The aws-auth guard: a ValidatingAdmissionWebhook for kube-system/aws-auth (docs/admission.md)."""

PATH = "/validate/aws-auth"  # where the webhook serves it, on the TokenReview listener
