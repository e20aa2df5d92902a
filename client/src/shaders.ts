/**
 * GLSL for the particle pass: one instanced draw of points. Each vertex is
 * a particle (a point sprite sized in the vertex shader); each instance is
 * one copy of the toroidal world, shifted by its offset, which the shader
 * reads from a uniform array by gl_InstanceID (a per-instance vertex
 * attribute made SwiftShader four times slower for the same picture). The vertex shader
 * picks the colour from the velocity (hue = heading, brightness = speed);
 * the fragment shader rounds the sprite into a soft dot.
 */

/**
 * Most copies of the world one frame draws: the camera shows at most 3
 * worlds across, which touches at most 4 copies per axis.
 */
export const MAX_COPIES = 16;

export const PARTICLE_VERTEX = `#version 300 es
#define MAX_COPIES ${MAX_COPIES}
layout(location = 0) in vec4 aParticle; // world x, y; velocity vx, vy (world units per second)
uniform vec2 uCopies[MAX_COPIES];        // offset of each copy of the world, one per instance
uniform vec2 uCenter;     // world point at the middle of the view
uniform vec2 uScale;      // clip units per world unit, x and y (y flipped: world y points down)
uniform float uPointSize; // dot diameter in device pixels
uniform float uSpeedFull; // speed drawn at full brightness
out vec3 vColor;

vec3 hsv2rgb(vec3 c) {
  vec3 p = abs(fract(c.xxx + vec3(0.0, 2.0 / 3.0, 1.0 / 3.0)) * 6.0 - 3.0);
  return c.z * mix(vec3(1.0), clamp(p - 1.0, 0.0, 1.0), c.y);
}

void main() {
  gl_Position = vec4((aParticle.xy + uCopies[gl_InstanceID] - uCenter) * uScale, 0.0, 1.0);
  gl_PointSize = uPointSize;
  float speed = length(aParticle.zw);
  float hue = atan(aParticle.w, aParticle.z) / 6.2831853 + 0.5;
  float bright = 0.4 + 0.6 * clamp(speed / uSpeedFull, 0.0, 1.0);
  // A particle at rest (just spawned, or a lone frame) has no heading: grey-blue.
  vColor = speed > 1e-3 ? hsv2rgb(vec3(hue, 0.75, bright)) : vec3(0.55, 0.6, 0.75);
}
`;

export const PARTICLE_FRAGMENT = `#version 300 es
precision mediump float;
in vec3 vColor;
out vec4 outColor;

void main() {
  float d = length(gl_PointCoord * 2.0 - 1.0);
  if (d > 1.0) discard;
  float alpha = 1.0 - smoothstep(0.55, 1.0, d);
  outColor = vec4(vColor * alpha, alpha);
}
`;
