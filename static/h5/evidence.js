/* jubao H5 — evidence files picked on the phone.
 * Photos are redrawn on a canvas (longest side at most 2048 px, JPEG quality 0.85): that makes
 * them smaller and drops EXIF, GPS and device data before anything leaves the phone. Other
 * files (PDF, audio, video) are kept as they are; so is a photo the browser cannot decode. */
(function () {
  'use strict';

  var J = window.Jubao;
  var MAX_SIDE = 2048;
  var QUALITY = 0.85;
  var MAX_BYTES = 20 * 1024 * 1024; // per file: the server's default ([evidence] max_file_bytes)
  var REENCODE = /^image\/(jpeg|jpg|pjpeg|png|webp|bmp)$/i;
  var nextId = 1;

  function kindOf(file) {
    var t = (file.type || '').toLowerCase();
    var n = (file.name || '').toLowerCase();
    if (t.indexOf('image/') === 0 || /\.(jpe?g|png|gif|webp|bmp|heic|heif)$/.test(n)) return 'image';
    if (t === 'application/pdf' || /\.pdf$/.test(n)) return 'pdf';
    if (t.indexOf('audio/') === 0 || /\.(mp3|m4a|amr|aac|wav|ogg|opus)$/.test(n)) return 'audio';
    if (t.indexOf('video/') === 0 || /\.(mp4|mov|3gp|webm|mkv)$/.test(n)) return 'video';
    return 'file';
  }

  function jpegName(name) {
    var base = String(name || 'photo').replace(/\.[^.\/]*$/, '') || 'photo';
    return base + '.jpg';
  }

  /** Resolve to a JPEG Blob without metadata, or null when the browser cannot do it. */
  J.downscaleImage = function (file) {
    return new Promise(function (resolve) {
      if (!REENCODE.test(file.type || '')) {
        resolve(null);
        return;
      }
      var url;
      try {
        url = URL.createObjectURL(file);
      } catch (e) {
        resolve(null);
        return;
      }
      var img = new Image();
      var done = function (blob) {
        URL.revokeObjectURL(url);
        resolve(blob || null);
      };
      img.onload = function () {
        try {
          var w = img.naturalWidth;
          var h = img.naturalHeight;
          if (!w || !h) return done(null);
          var scale = Math.min(1, MAX_SIDE / Math.max(w, h));
          var cw = Math.max(1, Math.round(w * scale));
          var ch = Math.max(1, Math.round(h * scale));
          var canvas = document.createElement('canvas');
          canvas.width = cw;
          canvas.height = ch;
          var ctx = canvas.getContext('2d');
          if (!ctx || typeof canvas.toBlob !== 'function') return done(null);
          ctx.fillStyle = '#ffffff'; // transparent PNG areas become white, not black
          ctx.fillRect(0, 0, cw, ch);
          ctx.drawImage(img, 0, 0, cw, ch);
          canvas.toBlob(function (blob) {
            done(blob && blob.size > 0 && blob.type === 'image/jpeg' ? blob : null);
          }, 'image/jpeg', QUALITY);
        } catch (e) {
          done(null);
        }
      };
      img.onerror = function () {
        done(null);
      };
      img.src = url;
    });
  };

  /**
   * A list of picked files with thumbnails and remove buttons.
   * opts: {input: [file inputs], list, count (element or null), errorId, max, onChange}
   */
  J.createFileList = function (opts) {
    var items = [];
    var queue = Promise.resolve();
    var max = opts.max || 9;

    function busy() {
      return items.some(function (it) {
        return it.busy;
      });
    }

    function render() {
      var list = opts.list;
      J.clear(list);
      items.forEach(function (it, idx) {
        var visual;
        if (it.busy) {
          visual = J.el('span', { class: 'thumb-icon busy', text: J.t('evidence.processing') });
        } else if (it.kind === 'image' && it.url) {
          visual = J.el('img', { class: 'thumb-img', src: it.url, alt: '' });
        } else {
          visual = J.el('span', { class: 'thumb-icon kind-' + it.kind, text: J.t('evidence.kind.' + it.kind) });
        }
        var remove = J.el('button', {
          type: 'button',
          class: 'thumb-remove',
          'aria-label': J.t('evidence.removeLabel', { name: it.name }),
          'data-idx': String(idx),
          text: J.t('evidence.remove')
        });
        remove.disabled = !!it.busy;
        remove.addEventListener('click', function () {
          removeAt(items.indexOf(it));
        });
        list.appendChild(
          J.el('li', { class: 'thumb' }, [
            visual,
            J.el('span', { class: 'thumb-text' }, [
              J.el('span', { class: 'thumb-name', text: it.name }),
              J.el('span', { class: 'thumb-size', text: it.busy ? '' : J.formatBytes(it.blob.size) })
            ]),
            remove
          ])
        );
      });
      if (opts.count) {
        opts.count.textContent = items.length ? J.t('evidence.count', { n: items.length }) : J.t('evidence.none');
      }
      if (opts.onChange) opts.onChange();
    }

    function removeAt(idx) {
      if (idx < 0) return;
      var it = items[idx];
      if (it.url) URL.revokeObjectURL(it.url);
      items.splice(idx, 1);
      J.clearFieldError(opts.errorId);
      render();
      J.announce(J.t('evidence.removed', { name: it.name }));
      var buttons = opts.list.querySelectorAll('.thumb-remove');
      var focusTo = buttons[Math.min(idx, buttons.length - 1)];
      if (focusTo) focusTo.focus();
      else if (opts.input[0]) opts.input[0].focus();
    }

    function process(it) {
      return J.downscaleImage(it.file).then(function (blob) {
        if (blob) {
          it.blob = blob;
          it.name = jpegName(it.file.name);
        } else {
          it.blob = it.file; // not an image we can redraw: upload as it is
        }
        if (it.kind === 'image') {
          try {
            it.url = URL.createObjectURL(it.blob);
          } catch (e) {
            it.url = null;
          }
        }
        it.file = null;
        it.busy = false;
        render();
      });
    }

    function add(fileList) {
      J.clearFieldError(opts.errorId);
      var files = Array.prototype.slice.call(fileList || []);
      var room = max - items.length;
      var dropped = Math.max(0, files.length - room);
      var problems = [];
      if (dropped) problems.push(J.t('evidence.tooMany', { n: dropped }));
      var added = 0;
      files.slice(0, Math.max(0, room)).forEach(function (file) {
        if (file.size > MAX_BYTES) {
          problems.push(J.t('evidence.tooBig', { name: file.name, max: J.formatBytes(MAX_BYTES) }));
          return;
        }
        var it = {
          id: nextId++,
          file: file,
          blob: null,
          name: file.name || 'file',
          kind: kindOf(file),
          url: null,
          busy: true
        };
        items.push(it);
        added++;
        queue = queue.then(function () {
          return process(it);
        });
      });
      if (problems.length) J.setFieldError(opts.errorId, null, problems.join(' '));
      render();
      if (added) {
        queue.then(function () {
          J.announce(J.t('evidence.added', { n: added }));
        });
      }
    }

    opts.input.forEach(function (input) {
      input.addEventListener('change', function () {
        add(input.files);
        input.value = ''; // so the same file can be picked again after removing it
      });
    });

    render();

    return {
      items: function () {
        return items.slice();
      },
      busy: busy,
      idle: function () {
        return queue;
      },
      clear: function () {
        items.forEach(function (it) {
          if (it.url) URL.revokeObjectURL(it.url);
        });
        items = [];
        render();
      },
      render: render
    };
  };
})();
