import { useEffect, useRef, useState } from 'preact/hooks';
import { decode } from 'blurhash';

const hashes = new Map();
function blurhashUrl(hash) {
  if (!hash) return null;
  if (hashes.has(hash)) return hashes.get(hash);
  let url = null;
  try {
    const pixels = decode(hash, 32, 32);
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 32;
    const ctx = canvas.getContext('2d');
    const img = ctx.createImageData(32, 32);
    img.data.set(pixels);
    ctx.putImageData(img, 0, 0);
    url = canvas.toDataURL();
  } catch { /* a malformed hash: no placeholder */ }
  hashes.set(hash, url);
  return url;
}

/** A photo in a post: its blurhash until it loads; a link to the full-size file, which opens in the viewer below. */
function Photo({ m, onOpen }) {
  const [loaded, setLoaded] = useState(false);
  const small = m.meta && m.meta.small;
  const original = m.meta && m.meta.original;
  const srcset = [small && `${m.preview_url} ${small.width}w`, original && `${m.url} ${original.width}w`].filter(Boolean).join(', ');
  const ratio = original ? `${original.width} / ${original.height}` : '1';
  const ph = blurhashUrl(m.blurhash);
  const open = (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    onOpen(m);
  };
  return (
    <a class="media" href={m.url} onClick={open} style={{ aspectRatio: ratio, backgroundImage: !loaded && ph ? `url(${ph})` : undefined }}>
      <img src={m.preview_url || m.url} srcset={srcset || undefined} sizes="(max-width: 640px) 100vw, 600px"
        alt={m.description || ''} loading="lazy" decoding="async" width={original && original.width} height={original && original.height}
        class={loaded ? 'loaded' : ''} onLoad={() => setLoaded(true)} />
    </a>
  );
}

/** The full-size photo in a modal dialog: Escape, the Close button or a click beside the photo closes it. */
function Viewer({ m, onClose }) {
  const ref = useRef();
  useEffect(() => {
    const d = ref.current;
    d.showModal();
    return () => d.open && d.close();
  }, []);
  const original = m.meta && m.meta.original;
  return (
    <dialog ref={ref} class="viewer" aria-label={m.description ? 'Photo: ' + m.description : 'Photo'} onClose={onClose}
      onClick={(e) => e.target === e.currentTarget && onClose()}>
      <img src={m.url} alt={m.description || ''} width={original && original.width} height={original && original.height} />
      {m.description && <p class="caption" aria-hidden="true">{m.description}</p>}
      <button type="button" class="close" onClick={onClose} autofocus>Close</button>
    </dialog>
  );
}

/** A video: the poster first; the stream is attached only once it is on screen (hls.js loaded then, if needed). */
function Video({ m }) {
  const ref = useRef();
  const original = m.meta && m.meta.original;
  useEffect(() => {
    const video = ref.current;
    let hls = null, done = false;
    const hlsUrl = m.lenta && m.lenta.hls_url;
    const io = new IntersectionObserver(async (entries) => {
      if (done || !entries.some((e) => e.isIntersecting)) return;
      done = true; io.disconnect();
      if (!hlsUrl || video.canPlayType('application/vnd.apple.mpegurl')) { video.src = hlsUrl || m.url; return; }
      const { default: Hls } = await import('hls.js/light');   // no subtitles, alternate audio or DRM: not used here
      if (Hls.isSupported()) { hls = new Hls(); hls.loadSource(hlsUrl); hls.attachMedia(video); } else video.src = m.url;
    }, { rootMargin: '200px' });
    io.observe(video);
    return () => { io.disconnect(); if (hls) hls.destroy(); };
  }, [m.id]);
  return (
    <div class="media" style={{ aspectRatio: original ? `${original.width} / ${original.height}` : '16 / 9' }}>
      <video ref={ref} poster={m.preview_url} controls playsInline muted preload="none" aria-label={m.description || 'Video'} />
    </div>
  );
}

export function MediaGrid({ items }) {
  const [open, setOpen] = useState(null);
  if (!items || !items.length) return null;
  return (
    <div class={'grid n' + Math.min(items.length, 4)}>
      {items.map((m) => (m.type === 'video' || m.type === 'gifv' ? <Video key={m.id} m={m} /> : <Photo key={m.id} m={m} onOpen={setOpen} />))}
      {open && <Viewer m={open} onClose={() => setOpen(null)} />}
    </div>
  );
}
