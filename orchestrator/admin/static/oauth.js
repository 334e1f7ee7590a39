// Finishes an OAuth callback: the authorization server's redirect is a
// cross-site navigation, which does not carry the SameSite=Strict session
// cookie; a navigation started from this page (same site) does.
document.addEventListener('DOMContentLoaded', () => {
  const a = document.querySelector('a#oauth-resume[data-auto]');
  if (a) window.location.replace(a.href);
});
