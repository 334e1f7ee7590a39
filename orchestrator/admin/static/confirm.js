// Asks before submitting a form marked data-confirm="question".
document.addEventListener('submit', (ev) => {
  const q = ev.target.dataset ? ev.target.dataset.confirm : '';
  if (q && !window.confirm(q)) ev.preventDefault();
});
