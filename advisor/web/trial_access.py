def can_view_trial(user, trial) -> bool:
    """Owners see their trials; anyone sees a shared one; staff see all."""
    if trial.shared:
        return True
    return bool(user and user.is_authenticated and (user.pk == trial.owner_id or user.is_staff))
