// mandelbrot: real CPU work. Renders the Mandelbrot set as a greyscale PGM image; the size
// comes from the argument ("WIDTHxHEIGHT", 256x256 by default, at most 2048 a side) and the
// iterations from the config (200 by default). A 1024x1024 image takes tens of milliseconds:
// the proxy's event loop does not notice, because the program runs in a worker thread.
import { Request, onRequest, respondBytes } from './sdk/shellac';
export { alloc, handle_request, state_save, state_restore } from './sdk/shellac';

function dimension(s: string, fallback: i32): i32 {
  const n = I32.parseInt(s);
  return n > 0 && n <= 2048 ? n : fallback;
}

onRequest((req: Request): void => {
  const parts = req.argument.split('x');
  const w = parts.length == 2 ? dimension(parts[0], 256) : 256;
  const h = parts.length == 2 ? dimension(parts[1], 256) : 256;
  const iterations = req.config.length > 0 ? dimension(req.config, 200) : 200;
  const header = String.UTF8.encode('P5\n' + w.toString() + ' ' + h.toString() + '\n255\n');
  const headerBytes = Uint8Array.wrap(header);
  const image = new Uint8Array(headerBytes.length + w * h);
  image.set(headerBytes);
  let p = headerBytes.length;
  for (let y = 0; y < h; y++) {
    const ci = (<f64>y / <f64>h) * 2.4 - 1.2;
    for (let x = 0; x < w; x++) {
      const cr = (<f64>x / <f64>w) * 3.2 - 2.2;
      let zr = 0.0;
      let zi = 0.0;
      let n = 0;
      while (n < iterations && zr * zr + zi * zi < 4.0) {
        const t = zr * zr - zi * zi + cr;
        zi = 2.0 * zr * zi + ci;
        zr = t;
        n++;
      }
      image[p++] = <u8>(n >= iterations ? 0 : 255 - ((n * 255) / iterations));
    }
  }
  respondBytes(200, 'image/x-portable-graymap', image);
});
